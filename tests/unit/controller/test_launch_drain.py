"""A launch that fails for the node's sake (the executor names it: its CPUs cannot be pinned) drains that node
with the reason, as Slurm drains a node whose prolog fails; a plain launch failure drains nothing (QA F5: every
job sent to such a node failed while it looked idle)."""

from __future__ import annotations

from pathlib import Path

from hal.api.server import ServerOptions, build
from hal.controller.directives import build_request
from hal.executors.api import ExecEvent, ExecEventKind
from hal.model.job import JobState
from tests.clusters import cluster_toml


def test_the_node_a_failed_launch_blames_is_drained_once(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(cluster_toml(name="c", nodes=2, cpus=1))
    ctl, _app, store, executor = build(
        ServerOptions(home=tmp_path / "home", executor="dev", cluster=tmp_path / "c.toml")
    )
    try:
        jobs = [
            int(ctl.submit(build_request("#!/bin/sh\ntrue\n", {"time": "5", "hold": "1"}, {}, "/", 0), "u").job_ids[0])
            for _ in range(2)
        ]
        now = ctl.clock()
        why = "launch failed: cannot pin to CPUs [999]: [Errno 22] Invalid argument"
        ctl._handle([
            ExecEvent(jobs[0], ExecEventKind.ENDED, now, JobState.FAILED, 1, reason=why, drain_node="n000"),
            ExecEvent(jobs[1], ExecEventKind.ENDED, now, JobState.FAILED, 1, reason="working directory gone"),
        ])  # fmt: skip
        assert set(ctl.drained) == {"n000"}
        assert "cannot pin to CPUs [999]" in str(ctl.drained["n000"])
        ctl._handle([ExecEvent(jobs[0], ExecEventKind.ENDED, now, JobState.FAILED, 1, reason=why, drain_node="n000")])
        assert set(ctl.drained) == {"n000"}  # once; an unknown node name is ignored too
        ctl._handle([ExecEvent(jobs[1], ExecEventKind.ENDED, now, JobState.FAILED, 1, reason=why, drain_node="zz9")])
        assert set(ctl.drained) == {"n000"}
    finally:
        executor.shutdown()
        store.close()
