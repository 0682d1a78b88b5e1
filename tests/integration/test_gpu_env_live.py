"""The GPU variables of real jobs and srun tasks (LocalExecutor): a job without GPUs on its node sees none of
its submitter's (QA: a CPU job submitted from inside a GPU job printed that job's CUDA_VISIBLE_DEVICES=0,...,7,
SLURM_JOB_GPUS and SLURM_GPUS_ON_NODE=8), and a task on a node where the job holds no GPU sees none of the
batch shell's."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import hal
from hal.executors.api import LaunchSpec, NodeShare
from hal.executors.local import LocalExecutor
from hal.model.job import JobState
from tests.integration.test_local_executor import wait_end

CPU = sorted(os.sched_getaffinity(0))[-1]
SHOW = 'echo "cvd=[${CUDA_VISIBLE_DEVICES-unset}] jobgpus=[${SLURM_JOB_GPUS-unset}] gon=[${SLURM_GPUS_ON_NODE-unset}]"'
OUTER = {"CUDA_VISIBLE_DEVICES": "0,1,2,3,4,5,6,7", "SLURM_JOB_GPUS": "0,1,2,3,4,5,6,7", "SLURM_GPUS_ON_NODE": "8"}


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(tmp_path / "spool", kill_wait=0.5, watch_interval=0.2, liveness_interval=0.1)
    yield executor
    executor.shutdown(cancel_running=True)


def spec(job_id: int, script: str, workdir: Path, shares: tuple[NodeShare, ...], ntasks: int = 1) -> LaunchSpec:
    env = {**OUTER, "PYTHONPATH": str(Path(hal.__file__).parent.parent)}  # srun runs the hal under test
    return LaunchSpec(job_id, "inner", "alice", script, workdir, "", "", shares, ntasks=ntasks, env=env)


def test_a_cpu_job_submitted_from_a_gpu_job_sees_no_gpus(ex: LocalExecutor, tmp_path: Path) -> None:
    ex.launch(spec(5, f"#!/bin/sh\n{SHOW}\n", tmp_path, (NodeShare("gpu09", (CPU,), 0, (), 1),)))
    assert wait_end(ex, 5).state is JobState.COMPLETED
    assert (tmp_path / "slurm-5.out").read_text() == "cvd=[unset] jobgpus=[unset] gon=[unset]\n"


def test_an_srun_task_where_the_job_holds_no_gpu_sees_none(ex: LocalExecutor, tmp_path: Path) -> None:
    shares = (NodeShare("gpu01", (CPU,), 0, (2, 3), 1), NodeShare("cpu01", (CPU,), 0, (), 1))
    script = f"#!/bin/sh\nsrun -n 2 -l sh -c '{SHOW}' | sort\n"
    ex.launch(spec(6, script, tmp_path, shares, ntasks=2))
    assert wait_end(ex, 6).state is JobState.COMPLETED
    out = (tmp_path / "slurm-6.out").read_text()
    assert out == "0: cvd=[2,3] jobgpus=[2,3] gon=[2]\n1: cvd=[unset] jobgpus=[unset] gon=[unset]\n"


def test_a_job_on_a_cluster_without_gpus_keeps_the_gpus_it_was_given(ex: LocalExecutor, tmp_path: Path) -> None:
    """CUDA_VISIBLE_DEVICES=1 hal submit on a machine whose cluster file has no GPUs: the job stays on GPU 1, as
    Slurm leaves it where no GPU is configured (it saw every GPU); Slurm's own GPU variables name no GPU of its."""
    launch = spec(7, f"#!/bin/sh\n{SHOW}\n", tmp_path, (NodeShare("n01", (CPU,), 0, (), 1, "", 0),))
    ex.launch(dataclasses.replace(launch, env={**launch.env, "CUDA_VISIBLE_DEVICES": "1"}))
    assert wait_end(ex, 7).state is JobState.COMPLETED
    assert (tmp_path / "slurm-7.out").read_text() == "cvd=[1] jobgpus=[unset] gon=[unset]\n"
