"""How a job asked for its GPUs is kept with its request (gpus_asked), not read from its environment: that is the
submitter's, so a --gres=gpu:2 job submitted from inside a --gpus-per-task=2 job (SLURM_GPUS_PER_TASK=2 exported)
showed tres-per-node N/A and tres-per-task gres/gpu=2; Slurm keeps gres/gpu:2 under TresPerNode. TresPerTask's
cpu=N is --cpus-per-task's only: --gpus=2 --cpus-per-gpu=8 showed cpu=16 (Slurm keeps that as CpusPerTres)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hal.api.views import GpuSplit, gpu_split
from hal.controller.directives import build_request, wrap_script
from tests.unit.api.held_gpu_jobs import held_jobs

ASKS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "gres_inherited": ({"gres": "gpu:2"}, {"SLURM_GPUS_PER_TASK": "2"}),
    "gpn_inherited": ({"gpus-per-node": "h100:2"}, {"SLURM_GPUS_PER_TASK": "h100:2"}),
    "per_task_inherited_other": ({"gpus-per-task": "2"}, {"SLURM_GPUS_PER_TASK": "1"}),
    "per_task_exported_none": ({"gpus-per-task": "2", "export": "NONE"}, {}),
    "array_gres_inherited": ({"gres": "gpu:1", "array": "0-2"}, {"SLURM_GPUS_PER_TASK": "1"}),
    "cpus_per_gpu": ({"gpus": "2", "cpus-per-gpu": "8"}, {}),
    "per_task_cpus_per_gpu": ({"gpus-per-task": "2", "ntasks": "2", "cpus-per-gpu": "4"}, {}),
    "gres_cpus": ({"gres": "gpu:2", "cpus-per-task": "4"}, {}),
}
WANTED = {  # (tres_per_job, tres_per_node, tres_per_task)
    "gres_inherited": (None, "gres/gpu:2", None),
    "gpn_inherited": (None, "gres/gpu:h100:2", None),
    "per_task_inherited_other": (None, None, "gres/gpu=2"),
    "per_task_exported_none": (None, None, "gres/gpu=2"),
    "array_gres_inherited": (None, "gres/gpu:1", None),
    "cpus_per_gpu": ("gres/gpu:2", None, None),
    "per_task_cpus_per_gpu": (None, None, "gres/gpu=2"),
    "gres_cpus": (None, "gres/gpu:2", "cpu=4"),
}


def test_the_tres_fields_follow_the_options_not_the_submitters_environment(tmp_path: Path) -> None:
    with held_jobs(tmp_path, dict(ASKS)) as (client, auth, ids):
        recs = client.get("/v1/jobs", headers=auth).json()["jobs"]
        got: dict[str, set[tuple[str | None, ...]]] = {}
        for r in recs:
            name = next(n for n, i in ids.items() if i in (r["job_id"], r["array_job_id"]))
            got.setdefault(name, set()).add((r["tres_per_job"], r["tres_per_node"], r["tres_per_task"]))
        assert got == {name: {want} for name, want in WANTED.items()}
        one = client.get(f"/v1/jobs/{ids['gres_inherited']}", headers=auth).json()
        assert (one["tres_per_node"], one["tres_per_task"]) == ("gres/gpu:2", None)


@pytest.mark.parametrize(
    ("options", "asked"),
    [
        ({"gres": "gpu:2"}, "node"),
        ({"gpus-per-node": "2", "nodes": "2"}, "node"),
        ({"gpus": "4", "nodes": "2"}, "job"),
        ({"gpus-per-task": "1", "ntasks": "2"}, "task"),
        ({"tres-per-task": "cpu=2,gres/gpu=1"}, "task"),
        ({"ntasks": "4", "ntasks-per-gpu": "1"}, "task"),
        ({"gpus": "4", "ntasks-per-gpu": "1"}, "job"),
        ({}, ""),
    ],
)
def test_the_request_keeps_how_the_gpus_were_asked(options: dict[str, str], asked: str) -> None:
    req = build_request(wrap_script("true"), options, {"SLURM_GPUS_PER_TASK": "2"}, "/tmp", 0.0)
    assert req.gpus_asked == asked
    assert json.loads(json.dumps(req.to_dict()))["gpus_asked"] == asked


def _old(options: dict[str, str], env: dict[str, str], spaced: bool = False) -> str:
    """A request as stored before gpus_asked and cpus_per_gpu were kept."""
    data = build_request(wrap_script("true"), options, env, "/tmp", 0.0).to_dict()
    del data["gpus_asked"], data["cpus_per_gpu"]
    return json.dumps(data) if spaced else json.dumps(data, separators=(",", ":"))


def test_requests_stored_before_still_show_as_they_did() -> None:
    assert gpu_split(_old({"gres": "gpu:2"}, {}), 1) == GpuSplit(node=2)
    assert gpu_split(_old({"gpus-per-task": "2"}, {}), 1) == GpuSplit(task=2)
    assert gpu_split(_old({"gpus-per-task": "2"}, {}, spaced=True), 1) == GpuSplit(task=2)
    assert gpu_split(_old({"gpus": "2"}, {}), 1) == GpuSplit(job=2)
    assert gpu_split(_old({"gres": "gpu:2", "nodes": "2", "ntasks": "4"}, {}), 4) == GpuSplit(node=2)
    # an environment variable named as a request key is not read as one
    assert gpu_split(_old({"gres": "gpu:2"}, {"gpus_asked": "task", "cpus_per_gpu": "3"}), 1) == GpuSplit(node=2)


def test_new_requests_read_the_kept_answer() -> None:
    stored = build_request(wrap_script("true"), {"gres": "gpu:2"}, {"SLURM_GPUS_PER_TASK": "2"}, "/tmp", 0.0)
    compact = json.dumps(stored.to_dict(), separators=(",", ":"))
    assert gpu_split(compact, 1) == gpu_split(json.dumps(stored.to_dict()), 1) == GpuSplit(node=2)
    per_gpu = build_request(wrap_script("true"), {"gpus": "2", "cpus-per-gpu": "8"}, {}, "/tmp", 0.0)
    assert gpu_split(json.dumps(per_gpu.to_dict()), 1) == GpuSplit(job=2, cpus_per_gpu=True)
