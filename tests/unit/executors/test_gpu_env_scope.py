"""A job or task holds only its own GPUs' variables: one without GPUs on its node sees none (QA: a CPU-only job
submitted from inside a GPU job kept that job's CUDA_VISIBLE_DEVICES=0,...,7, SLURM_JOB_GPUS and
SLURM_GPUS_ON_NODE=8, so on real hardware it would have used GPUs another job owns; `CUDA_VISIBLE_DEVICES=3
hal sbatch -n1` saw 3). Slurm unsets them where no GPU of the node is the job's or step's."""

from __future__ import annotations

from pathlib import Path

from hal.executors.api import LaunchSpec, NodeShare
from hal.executors.jobenv import job_environment
from hal.executors.tasks import Step, place, task_environment

# what a job holding GPUs 0-7 of gpu09 exports to a job it submits (sbatch exports the environment by default)
OUTER = {
    "CUDA_VISIBLE_DEVICES": "0,1,2,3,4,5,6,7",
    "SLURM_JOB_GPUS": "0,1,2,3,4,5,6,7",
    "SLURM_GPUS_ON_NODE": "8",
    "SLURM_STEP_GPUS": "0,1",
    "HAL_GPUS": "0,1,2,3,4,5,6,7",
    "ROCR_VISIBLE_DEVICES": "0,1",
    "GPU_DEVICE_ORDINAL": "0,1",
    "ZE_AFFINITY_MASK": "0,1",
    "FOO": "kept",
}
GPU_VARIABLES = [name for name in OUTER if name != "FOO"]


def spec(shares: tuple[NodeShare, ...], env: dict[str, str]) -> LaunchSpec:
    return LaunchSpec(42, "inner", "alice", "true\n", Path("/w"), "", "", shares, ntasks=1, env=env)


def test_a_job_without_gpus_inherits_none_of_the_submitters_gpu_variables() -> None:
    cpu_only = (NodeShare("gpu09", (0,), 100, (), 1),)
    env = job_environment(spec(cpu_only, dict(OUTER)), {"PATH": "/bin", "CUDA_VISIBLE_DEVICES": "5"})
    assert [name for name in GPU_VARIABLES if name in env] == []
    assert env["FOO"] == "kept" and env["PATH"] == "/bin"
    typed = job_environment(spec(cpu_only, {"CUDA_VISIBLE_DEVICES": "3"}), {})  # CUDA_VISIBLE_DEVICES=3 hal sbatch
    assert "CUDA_VISIBLE_DEVICES" not in typed


def test_a_gpu_job_sees_its_own_gpus_and_no_stale_ones() -> None:
    gpus = (NodeShare("gpu09", (0,), 100, (4, 5), 1),)
    env = job_environment(spec(gpus, dict(OUTER)), {})
    assert env["CUDA_VISIBLE_DEVICES"] == env["SLURM_JOB_GPUS"] == env["HAL_GPUS"] == "4,5"
    assert env["SLURM_GPUS_ON_NODE"] == "2"
    assert "SLURM_STEP_GPUS" not in env  # the outer job's, not this one's
    for name in ("ROCR_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "ZE_AFFINITY_MASK"):  # every vendor's, as Slurm's
        assert env[name] == "4,5"  # this job's GPUs, not the outer job's


def test_a_task_on_a_node_where_the_job_has_no_gpus_sees_none() -> None:
    """The batch shell's variables name its first node's GPUs; srun's task on the second node, where the job
    holds none, kept them."""
    shares = (NodeShare("gpu01", (0,), 0, (0, 1), 1), NodeShare("cpu01", (1,), 0, (), 1))
    batch = job_environment(spec(shares, {}), {})
    assert batch["CUDA_VISIBLE_DEVICES"] == "0,1"
    tasks = place(shares, 2, 1, "block")
    first, second = (task_environment(batch, shares, tasks, t) for t in tasks)
    assert first["CUDA_VISIBLE_DEVICES"] == first["SLURM_STEP_GPUS"] == "0,1"
    assert [name for name in GPU_VARIABLES if name in second] == []


def test_a_step_that_takes_no_gpus_sees_none() -> None:
    shares = (NodeShare("gpu01", (0, 1), 0, (0, 1), 2),)
    batch = job_environment(spec(shares, {}), {})
    tasks = place(shares, 1, 1, "block")
    env = task_environment(batch, shares, tasks, tasks[0], Step(gpus_per_task=0))
    assert [name for name in GPU_VARIABLES if name in env] == []
    whole = task_environment(batch, shares, tasks, tasks[0])  # without the option: the job's GPUs, as before
    assert whole["CUDA_VISIBLE_DEVICES"] == "0,1"
