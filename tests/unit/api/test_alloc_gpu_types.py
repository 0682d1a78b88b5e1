"""AllocTRES counts a started job's GPUs by their type, as Slurm records them, whatever the request named: an
untyped --gpus=2 on an a100 node is gres/gpu=2,gres/gpu:a100=2, and a job over a100 and h100 nodes gives each
type its own count (QA: both showed gres/gpu=N alone). The server says the held types (alloc_gpu_types)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.cli.live import tres

CLUSTER = """name = "typed"
[[nodes]]
names = "a[01-02]"
cpus = 4
mem = "1G"
gpus = 4
gpu_type = "a100"
[[nodes]]
names = "h[01-02]"
cpus = 4
mem = "1G"
gpus = 8
gpu_type = "h100"
"""

ASKS = {
    "untyped": {"gpus": "2", "nodelist": "a01"},
    "mixed": {"nodes": "2", "gpus-per-node": "4", "nodelist": "a02,h01"},
    "typed": {"gpus": "h100:3", "nodelist": "h02"},
    "none": {"nodelist": "h02"},
}
WANT = {
    "untyped": ({"a100": 2}, "cpu=1,mem=0M,node=1,gres/gpu=2,gres/gpu:a100=2"),
    "mixed": ({"a100": 4, "h100": 4}, "cpu=2,mem=0M,node=2,gres/gpu=8,gres/gpu:a100=4,gres/gpu:h100=4"),
    "typed": ({"h100": 3}, "cpu=1,mem=0M,node=1,gres/gpu=3,gres/gpu:h100=3"),
    "none": ({}, "cpu=1,mem=0M,node=1"),
}


def test_started_jobs_say_the_types_of_the_gpus_they_hold(tmp_path: Path) -> None:
    cluster = tmp_path / "typed.toml"
    cluster.write_text(CLUSTER)
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    auth = {"Authorization": f"Bearer {(tmp_path / 'home' / 'token').read_text().strip()}"}
    try:
        with TestClient(app) as client:
            ids = {}
            for name, options in ASKS.items():
                body = {"wrap": "sleep 30", "options": options, "workdir": str(tmp_path)}
                resp = client.post("/v1/jobs", json=body, headers=auth)
                assert resp.status_code == 201, (name, resp.text)
                ids[name] = resp.json()["job_id"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                ctl.run_cycle()  # no server loop here: the test turns it
                jobs = client.get("/v1/jobs", headers=auth).json()["jobs"]
                if all(j["state"] == "RUNNING" for j in jobs):
                    break
                time.sleep(0.05)
            listed = {j["job_id"]: j for j in client.get("/v1/jobs", headers=auth).json()["jobs"]}
            for name, (types, alloc_tres) in WANT.items():
                one = client.get(f"/v1/jobs/{ids[name]}", headers=auth).json()
                for rec in (one, listed[ids[name]]):
                    assert rec["state"] == "RUNNING", (name, rec["state"])
                    assert rec["alloc_gpu_types"] == types, name
                    assert tres(rec, allocated=True) == alloc_tres, name
            for job_id in ids.values():
                client.delete(f"/v1/jobs/{job_id}", headers=auth)
    finally:
        executor.shutdown()
        store.close()


def test_a_record_without_held_types_keeps_the_requests_type() -> None:
    """An older server's record: a typed request's GPUs are all of its type; an untyped one's say none."""
    base = {"nodelist": "g1", "alloc_cpus": 1, "alloc_mem_mb": 0, "req_gpus": 2, "alloc_gpus": 2}
    assert tres({**base, "gpu_type": "h100"}, allocated=True).endswith("gres/gpu=2,gres/gpu:h100=2")
    assert tres({**base, "gpu_type": ""}, allocated=True).endswith("gres/gpu=2")
    assert tres({**base, "gpu_type": "h100"}) == "cpu=0,mem=0M,node=1,gres/gpu=2,gres/gpu:h100=2"  # ReqTRES
