"""Every vendor's GPU variable names the job's (or task's) GPUs, as Slurm's gpu plugin sets CUDA_VISIBLE_DEVICES,
ROCR_VISIBLE_DEVICES, GPU_DEVICE_ORDINAL and ZE_AFFINITY_MASK alike (HAL unset all four and set CUDA's alone)."""

from __future__ import annotations

from pathlib import Path

from hal.executors.api import LaunchSpec, NodeShare
from hal.executors.jobenv import VENDOR_GPU_VARIABLES, job_environment
from hal.executors.tasks import Step, place, task_environment

SHARES = (NodeShare("h02", (0, 1), 0, (4, 5, 6, 7), 2, "h100", 8),)


def _batch() -> dict[str, str]:
    spec = LaunchSpec(9, "gpus", "alice", "true\n", Path("/w"), "", "", SHARES, ntasks=2)
    return job_environment(spec, {"ROCR_VISIBLE_DEVICES": "9", "ZE_AFFINITY_MASK": "9"})


def test_the_batch_script_sees_its_gpus_in_every_vendors_variable() -> None:
    env = _batch()
    assert {name: env.get(name) for name in VENDOR_GPU_VARIABLES} == dict.fromkeys(VENDOR_GPU_VARIABLES, "4,5,6,7")


def test_a_task_sees_its_own_gpus_in_every_vendors_variable() -> None:
    tasks = place(SHARES, 2, 1, "block")
    second = task_environment(_batch(), SHARES, tasks, tasks[1], Step(gpus_per_task=2))
    assert {name: second.get(name) for name in VENDOR_GPU_VARIABLES} == dict.fromkeys(VENDOR_GPU_VARIABLES, "6,7")
