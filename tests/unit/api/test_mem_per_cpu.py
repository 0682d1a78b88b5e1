"""Job records carry --mem-per-cpu's value (mem_per_cpu_mb) for squeue's %m, which prints it rather than the
per-node total: HAL printed 900M for --mem-per-cpu=600M -n3 (squeue: 600M)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_records_keep_the_memory_per_cpu_asked(tmp_path: Path) -> None:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    asks: dict[str, dict[str, str | int]] = {
        "per_cpu": {"mem-per-cpu": "600M", "ntasks": 3},
        "per_node": {"mem": "1500M"},
        "none": {},
        "inherited": {"mem": "1G"},  # SLURM_MEM_PER_CPU from the submitter's own job is not this job's request
        "array": {"mem-per-cpu": "1G", "cpus-per-task": 2, "array": "0-2"},
    }
    try:
        with TestClient(app) as client:
            ids = {}
            for name, options in asks.items():
                env = {"SLURM_MEM_PER_CPU": "4096"} if name == "inherited" else {}
                body = {"wrap": "true", "options": {**options, "hold": True}, "env": env, "workdir": str(tmp_path)}
                ids[name] = client.post("/v1/jobs", json=body, headers=auth).json()["job_id"]
            recs = client.get("/v1/jobs", headers=auth).json()["jobs"]
            got = {r["job_id"]: r["mem_per_cpu_mb"] for r in recs}
            assert [got[ids[n]] for n in ("per_cpu", "per_node", "none", "inherited")] == [600, None, None, None]
            assert [r["mem_per_cpu_mb"] for r in recs if r["array_job_id"] == ids["array"]] == [1024] * 3
            one = client.get(f"/v1/jobs/{ids['per_cpu']}", headers=auth).json()
            assert one["mem_per_cpu_mb"] == 600
    finally:
        executor.shutdown()
        store.close()
