"""Two virtual nodes: `hal run --ntasks 4` spreads tasks, pins each to its node's CPUs, and fails if one does."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hal.executors.api import NodeShare
from hal.executors.local import LocalExecutor
from hal.model.job import JobState
from tests.integration.test_local_executor import make_spec, wait_end

CPUS = sorted(os.sched_getaffinity(0))
pytestmark = pytest.mark.skipif(len(CPUS) < 2, reason="two virtual nodes need two CPUs")


def test_hal_run_spreads_tasks_over_two_virtual_nodes(tmp_path: Path) -> None:
    shares = (NodeShare("vn0", (CPUS[0],), 500, ncpus=2), NodeShare("vn1", (CPUS[1],), 500, ncpus=2))
    task = "echo $SLURM_PROCID $HAL_PROCID $SLURM_NODEID $SLURM_LOCALID $SLURMD_NODENAME $SLURM_STEP_NUM_TASKS "
    task += "$(grep Cpus_allowed_list /proc/self/status | cut -f2)"
    script = (
        "#!/bin/bash\n"
        f"hal run --ntasks 4 sh -c '{task}' | sort -n\n"
        "echo nodes=$SLURM_JOB_NODELIST nnodes=$SLURM_NNODES\n"
        f"{sys.executable} -m hal.executors.tasks -n 2 -m cyclic sh -c 'exit $((SLURM_PROCID * 3))'\n"
        "echo failed-step=$?\n"
        f"{sys.executable} -m hal.executors.tasks -n 5 true; echo over=$?\n"
        f"{sys.executable} -m hal.executors.tasks -O -n 5 true; echo overcommit=$?\n"
    )
    ex = LocalExecutor(tmp_path / "spool", kill_wait=0.5)
    try:
        ex.launch(make_spec(20, script, tmp_path, shares=shares, ntasks=4, stderr="%j.err"))
        ended = wait_end(ex, 20, timeout=30)
    finally:
        ex.shutdown(cancel_running=True)
    out = (tmp_path / "slurm-20.out").read_text().splitlines()
    assert ended.state is JobState.COMPLETED, (ended, out)
    assert out[:4] == [
        f"0 0 0 0 vn0 4 {CPUS[0]}",
        f"1 1 0 1 vn0 4 {CPUS[0]}",
        f"2 2 1 0 vn1 4 {CPUS[1]}",
        f"3 3 1 1 vn1 4 {CPUS[1]}",
    ]
    assert out[4] == "nodes=vn[0-1] nnodes=2"
    assert out[5] == "failed-step=3"  # the highest task exit code
    assert out[6:] == ["over=2", "overcommit=0"]  # more tasks than the allocation: refused, as srun does, or -O
    err = (tmp_path / "20.err").read_text()
    assert "5 task(s) x 1 CPU(s) is more than the 4 CPU(s) the step's nodes hold" in " ".join(err.split())
    assert "3 task(s) x 1 CPU(s) on node vn0, which holds 2" in err  # -O: allowed, and said
    assert "task 1 on node vn1 exited with code 3" in err
