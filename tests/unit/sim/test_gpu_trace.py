"""AI traces count GPUs as processors: `--gpus` turns each job into GPU tasks on a GPU cluster's nodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.engine.profile import Profile
from hal.model.resources import Resources
from hal.sim.runner import SimOptions, gpu_capacity, gpu_job, load, run_workload
from hal.sim.swf import SwfRecord, write_swf
from tests.unit.sim.test_simulator import job

GPU_TREE = '[[nodes]]\nprefix = "g"\ncount = 4\ncpus = 16\ngpus = 8\n[topology]\nlevels = ["block"]\nfanouts = [2]\n'


def _rec(job_id: int, submit: int, run: int, procs: int) -> SwfRecord:
    return SwfRecord(job_id, submit, -1, run, procs, -1, -1, procs, -1, -1, 1, 1, -1, -1, -1, -1, -1, -1)


def test_jobs_become_gpu_tasks_on_one_node_when_they_fit_and_big_ones_in_one_segment() -> None:
    """A 4-GPU job was split 2+2 over two nodes when no single node had 4 free: the traces' jobs ran on one."""
    small, big = gpu_job(job(1, 0, 60, 30, procs=4), 8), gpu_job(job(2, 0, 60, 30, procs=20), 8, block=4)
    assert (small.tasks, small.per_task, small.nodes, small.segment) == (4, Resources(cpus=1, gpus=1), 1, None)
    assert (big.tasks, big.nodes, big.segment) == (20, 3, 3)
    assert gpu_job(job(3, 0, 60, 30, procs=20), 8).segment is None
    # 16 nodes on blocks of 8: two whole-block segments (one of 16 could never fit, and the job was skipped)
    assert gpu_job(job(4, 0, 60, 30, procs=128), 8, block=8).segment == 8
    # 15 nodes on four blocks of 4: five segments of 3 never fit (one a block); segments of one do (QA: refused)
    assert gpu_job(job(5, 0, 60, 30, procs=60), 4, block=4, blocks=[4, 4, 4, 4]).segment is None
    assert gpu_job(job(6, 0, 60, 30, procs=48), 4, block=4, blocks=[4, 4, 4, 4]).segment == 4


def test_gpu_capacity_needs_one_gpu_count_and_a_cpu_per_gpu() -> None:
    assert gpu_capacity(np.array([[16, 0, 8], [16, 0, 8]])) == (16, 8)
    for cap, message in [
        ([[16, 0, 8], [16, 0, 4]], "same number of GPUs"),
        ([[16, 0, 0], [16, 0, 0]], "have no GPUs"),
        ([[4, 0, 8], [16, 0, 8]], "need 8 CPUs"),
    ]:
        with pytest.raises(ValueError, match=message):
            gpu_capacity(np.array(cap))


def test_a_gpu_trace_runs_on_the_gpus_and_reports_their_utilization(tmp_path: Path) -> None:
    (tmp_path / "g.toml").write_text(GPU_TREE)
    write_swf(tmp_path / "t.swf", [_rec(1, 0, 100, 16), _rec(2, 0, 100, 16), _rec(3, 0, 100, 40)], {"MaxProcs": "32"})
    opts = SimOptions(cluster=tmp_path / "g.toml", gpus=True, estimate="actual")
    trace, workload = load(tmp_path / "t.swf", opts)
    assert [j.job_id for j in workload.jobs] == [1, 2] and "machine has 32" in workload.skipped[0].message
    run = run_workload(trace, workload, opts)
    assert run.outcome.capacity == 32 and run.summary.utilization == pytest.approx(1.0)  # two 16-GPU jobs at once
    assert list(run.outcome.start) == [0.0, 0.0]
    small = [_rec(1, 0, 100, 1), _rec(2, 0, 100, 1)]  # two 1-GPU jobs on 32 GPUs: 1/16 of the GPUs, not 2/4 nodes
    write_swf(tmp_path / "s.swf", small, {"MaxProcs": "32"})
    topo = SimOptions(cluster=tmp_path / "g.toml", gpus=True, estimate="actual", profile=Profile(placement="topology"))
    few = run_workload(*load(tmp_path / "s.swf", topo), topo)
    assert few.topology is not None and few.topology.useful_utilization == pytest.approx(few.summary.utilization)


def test_cli_checks_what_gpus_and_segment_need(tmp_path: Path) -> None:
    (tmp_path / "g.toml").write_text(GPU_TREE)
    write_swf(tmp_path / "t.swf", [_rec(1, 0, 100, 16), _rec(2, 5, 100, 12)], {"MaxProcs": "32"})
    base = ["simulate", str(tmp_path / "t.swf")]
    on = ["--cluster", str(tmp_path / "g.toml"), "--gpus"]
    ok = CliRunner().invoke(app, [*base, *on, "--segment", "--placement", "topology", "--estimate", "actual"])
    said = " ".join(ok.output.split())
    assert ok.exit_code == 0 and "on 32 GPUs" in said and "in fewest leaves" in said, said
    for args, message in [
        (["--gpus"], "need a cluster file"),
        ([*on, "--segment", "--placement", "firstfit"], "needs --gpus and --placement topology"),
        ([*on, "--whole-nodes"], "give one of them"),
        (["--setup", "rlscheduler", "--gpus"], "drop --gpus"),
    ]:
        done = CliRunner().invoke(app, [*base, *args])
        assert done.exit_code == 2 and message in " ".join(done.output.split()), (args, done.output)


def test_tune_takes_gpus_on_a_gpu_cluster(tmp_path: Path) -> None:
    """Tuned on CPUs, an AI trace never contended on a GPU cluster file (every order scored bsld 1.00)."""
    (tmp_path / "g.toml").write_text(GPU_TREE)
    write_swf(tmp_path / "t.swf", [_rec(i, i, 100, 16) for i in range(1, 41)], {"MaxProcs": "32"})
    cmd = ["tune", str(tmp_path / "t.swf"), "--train", "0:20", "--cluster", str(tmp_path / "g.toml"), "--budget", "4"]
    on_gpus = CliRunner().invoke(app, [*cmd, "--gpus", "--json"])
    assert on_gpus.exit_code == 0, on_gpus.output
    import json

    assert json.loads(on_gpus.output[on_gpus.output.index("{") :])["avg_bsld"]["fcfs"][0] > 1.5  # 16-GPU jobs queue


def test_trace_check_reads_the_trace_for_a_gpu_cluster(tmp_path: Path) -> None:
    (tmp_path / "g.toml").write_text(GPU_TREE)
    write_swf(tmp_path / "t.swf", [_rec(1, 0, 100, 16), _rec(2, 0, 100, 40)], {"MaxProcs": "64"})
    done = CliRunner().invoke(app, ["trace", "check", str(tmp_path / "t.swf"), "--cluster", str(tmp_path / "g.toml"),
                                    "--gpus"])  # fmt: skip
    said = " ".join(done.output.split())
    assert done.exit_code == 0 and "1 jobs a replay runs" in said and "needs 40 processors, machine has 32" in said


def test_with_a_cluster_a_missing_request_is_not_planned_at_a_hidden_hour(tmp_path: Path) -> None:
    """Without a partition limit every unrequested job was planned at 3,600 s; the note said its run time."""
    (tmp_path / "g.toml").write_text(GPU_TREE)
    write_swf(tmp_path / "t.swf", [_rec(1, 0, 100, 8), _rec(2, 0, 250, 8)], {"MaxProcs": "32"})
    opts = SimOptions(cluster=tmp_path / "g.toml", gpus=True)  # user estimates
    _, workload = load(tmp_path / "t.swf", opts)
    assert [(j.time_limit, j.request_known) for j in workload.jobs] == [(100.0, False), (250.0, False)]


def test_trace_check_reports_jobs_the_scheduler_refuses_on_the_cluster(tmp_path: Path) -> None:
    """A job wider than a switch fabric was counted as one the replay runs; simulate then rejected it (QA)."""
    (tmp_path / "topology.conf").write_text("SwitchName=a Nodes=g[000-001]\nSwitchName=b Nodes=g[002-003]\n")
    fabrics = GPU_TREE.replace('levels = ["block"]\nfanouts = [2]', 'slurm_conf = "topology.conf"')
    (tmp_path / "g.toml").write_text(fabrics)
    write_swf(tmp_path / "t.swf", [_rec(1, 0, 100, 24), _rec(2, 0, 100, 8)], {"MaxProcs": "32"})
    done = CliRunner().invoke(app, ["trace", "check", str(tmp_path / "t.swf"), "--cluster", str(tmp_path / "g.toml"),
                                    "--gpus"])  # fmt: skip
    said = " ".join(done.output.split())
    assert "1 jobs a replay runs" in said and "rejected by the scheduler: job 1:" in said, said
