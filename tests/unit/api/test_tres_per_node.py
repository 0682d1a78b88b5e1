"""squeue's %b / -O tres-per-node is the GPUs a job asked each node for (--gres, --gpus-per-node), N/A for --gpus and
--gpus-per-task requests (squeue shows those under tres-per-job, tres-per-task). QA: hal queue -o %b divided the
job's total by its node count, rounding up: -n 20 --ntasks-per-gpu=1 showed gres/gpu:7 (the split is 8+8+4),
--gpus=3 showed gres/gpu:3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hal.cli import squeue_format
from tests.unit.api.held_gpu_jobs import held_jobs

ASKS: dict[str, dict[str, Any]] = {
    "gres_N": {"gres": "gpu:8", "nodes": 2},
    "gres_one": {"gres": "gpu:4"},  # one task, no -N: per node all the same
    "typed_per_node": {"gpus-per-node": "h100:2", "nodes": 2, "ntasks-per-node": 2},
    "gpus": {"gpus": 3},
    "ntasks_per_gpu": {"ntasks": 20, "ntasks-per-gpu": 1},
    "per_task": {"gpus-per-task": 2, "ntasks": 4},
    "per_task_one": {"gpus-per-task": 2},  # one task, no -N: told apart from --gres by the per-task option
    "tres_per_task": {"tres-per-task": "gres/gpu:h100=1"},
    "none": {},
    "array_gres": {"gres": "gpu:1", "array": "0-2"},  # tasks after the first keep the environment elsewhere
    "array_per_task": {"gpus-per-task": 1, "array": "0-2"},
}
WANTED = {
    "gres_N": "gres/gpu:8", "gres_one": "gres/gpu:4", "typed_per_node": "gres/gpu:h100:2", "gpus": None,
    "ntasks_per_gpu": None, "per_task": None, "per_task_one": None, "tres_per_task": None, "none": None,
    "array_gres": "gres/gpu:1", "array_per_task": None,
}  # fmt: skip


def test_records_carry_the_per_node_request_and_b_shows_it(tmp_path: Path) -> None:
    with held_jobs(tmp_path, {name: (options, None) for name, options in ASKS.items()}) as (client, auth, ids):
        recs = client.get("/v1/jobs", headers=auth).json()["jobs"]
        by_array: dict[int, list[dict[str, Any]]] = {}
        for r in recs:
            by_array.setdefault(r["array_job_id"] or r["job_id"], []).append(r)
        got = {name: {r["tres_per_node"] for r in by_array[ids[name]]} for name in ASKS}
        assert got == {name: {want} for name, want in WANTED.items()}
        one = client.get(f"/v1/jobs/{ids['gres_N']}", headers=auth).json()
        assert one["tres_per_node"] == "gres/gpu:8"
        tasks = client.get(f"/v1/jobs/{ids['array_per_task']}", headers=auth).json()["tasks"]
        assert [t["tres_per_node"] for t in tasks] == [None] * 3
        shown = {r["job_id"]: squeue_format.render("%b", r) for r in recs}
        assert shown[ids["ntasks_per_gpu"]] == shown[ids["gpus"]] == "N/A"  # were gres/gpu:7, gres/gpu:3
        assert shown[ids["gres_N"]] == "gres/gpu:8" and shown[ids["typed_per_node"]] == "gres/gpu:h100:2"


def test_b_sorts_by_the_per_node_count() -> None:
    jobs = [
        {"job_id": 1, "tres_per_node": "gres/gpu:h100:16"},
        {"job_id": 2, "tres_per_node": None},
        {"job_id": 3, "tres_per_node": "gres/gpu:2"},
    ]
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "-b")] == [1, 3, 2]
    assert squeue_format.render("%.14b", jobs[1]) == "           N/A"
