"""An srun --gpus-per-task=N step tells its tasks SLURM_GPUS_PER_TASK=N, as srun does (it was unset)."""

from __future__ import annotations

from hal.executors.api import NodeShare
from hal.executors.tasks import Step, place, task_environment

SHARES = (NodeShare("h02", (0, 1), 0, (0, 1, 2, 3), 2, "h100", 8),)

BATCH = {"SLURM_JOB_ID": "9", "CUDA_VISIBLE_DEVICES": "0,1,2,3"}


def test_a_gpus_per_task_step_sets_slurm_gpus_per_task() -> None:
    tasks = place(SHARES, 2, 1, "block")
    env = task_environment(BATCH, SHARES, tasks, tasks[1], Step(gpus_per_task=1))
    assert (env["SLURM_GPUS_PER_TASK"], env["CUDA_VISIBLE_DEVICES"]) == ("1", "1")
    job_wide = {**BATCH, "SLURM_GPUS_PER_TASK": "2"}  # the step's own count wins over the job's
    assert task_environment(job_wide, SHARES, tasks, tasks[0], Step(gpus_per_task=1))["SLURM_GPUS_PER_TASK"] == "1"
    assert "SLURM_GPUS_PER_TASK" not in task_environment(BATCH, SHARES, tasks, tasks[0], Step(gpus_per_node=2))
