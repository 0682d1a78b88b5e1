"""squeue -O tres-per-job, tres-per-task, tres-alloc (alias tres), NumTasks and Gres (squeue's old name for
tres-per-node), any case: `hal queue -O tres-per-job` failed with "unknown --Format field". Records carry Slurm's
TresPerJob and TresPerTask strings for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.api.held_gpu_jobs import held_jobs
from tests.unit.cli.test_queue_submit_qa import T0, FakeClient, job, run

ASKS: dict[str, dict[str, Any]] = {
    "gpus": {"gpus": 3},
    "typed_gpus": {"gpus": "h100:4", "nodes": 2},
    "per_task": {"gpus-per-task": 2, "ntasks": 4, "cpus-per-task": 4},
    "tres_per_task": {"tres-per-task": "cpu=2,gres/gpu:h100=1"},
    "ntasks_per_gpu": {"ntasks": 20, "ntasks-per-gpu": 1},
    "gres": {"gres": "gpu:4"},
    "cpus": {"cpus-per-task": 8},
    "none": {},
}
WANTED = {  # (tres_per_job, tres_per_task)
    "gpus": ("gres/gpu:3", None), "typed_gpus": ("gres/gpu:h100:4", None), "per_task": (None, "cpu=4,gres/gpu=2"),
    "tres_per_task": (None, "cpu=2,gres/gpu:h100=1"), "ntasks_per_gpu": (None, "gres/gpu=1"), "gres": (None, None),
    "cpus": (None, "cpu=8"), "none": (None, None),
}  # fmt: skip


def test_records_carry_tres_per_job_and_per_task(tmp_path: Path) -> None:
    with held_jobs(tmp_path, {name: (options, None) for name, options in ASKS.items()}) as (client, auth, ids):
        recs = {r["job_id"]: r for r in client.get("/v1/jobs", headers=auth).json()["jobs"]}
        got = {name: (recs[i]["tres_per_job"], recs[i]["tres_per_task"]) for name, i in ids.items()}
        assert got == WANTED
        one = client.get(f"/v1/jobs/{ids['per_task']}", headers=auth).json()
        assert (one["tres_per_job"], one["tres_per_task"], one["req_tasks"]) == (None, "cpu=4,gres/gpu=2", 4)


RUNNING = job(
    7, "RUNNING", nodelist="vn[000-001]", start_time=T0, elapsed=60.0, req_nodes=2, req_tasks=8, req_cpus=8,
    req_mem_mb=4096, req_gpus=8, alloc_cpus=8, alloc_mem_mb=4096, alloc_gpus=8, tres_per_job=None,
    tres_per_node="gres/gpu:4", tres_per_task="cpu=1", gpu_type="",
)  # fmt: skip
PENDING = job(
    8, req_nodes=None, req_tasks=4, req_cpus=16, req_mem_mb=2048, req_gpus=8, tres_per_job=None,
    tres_per_node=None, tres_per_task="cpu=4,gres/gpu:h100=2", gpu_type="h100",
)  # fmt: skip
WHOLE = job(9, req_tasks=1, req_gpus=3, tres_per_job="gres/gpu:3", tres_per_node=None, tres_per_task=None)


def test_hal_queue_prints_the_fields_with_squeues_names_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = "JobID:3,TRES-PER-JOB:13,tres-per-task:22,NumTasks:.6,Gres:.11, Tres-Alloc:60"
    res = run(monkeypatch, FakeClient([RUNNING, PENDING, WHOLE]), "queue", "-O", spec)
    assert res.exit_code == 0, res.output
    assert [line.rstrip() for line in res.stdout.splitlines()] == [
        "JOBTRES_PER_JOB TRES_PER_TASK          TASKSTRES_PER_NOTRES_ALLOC",
        "7  N/A          cpu=1                      8 gres/gpu:4cpu=8,mem=4096M,node=2,gres/gpu=8",
        "8  N/A          cpu=4,gres/gpu:h100=2      4        N/Acpu=16,mem=2048M,node=2,gres/gpu=8,gres/gpu:h100=8",
        "9  gres/gpu:3   N/A                        1        N/Acpu=1,mem=0M,node=1,gres/gpu=3",
    ]  # pending: the request, on the nodes NODES shows (16 CPUs of 8-CPU nodes: 2), as squeue's tres-alloc
    alias = run(monkeypatch, FakeClient([RUNNING]), "queue", "-h", "-O", "tres:40,GRES")
    assert alias.stdout.split() == ["cpu=8,mem=4096M,node=2,gres/gpu=8", "gres/gpu:4"]
