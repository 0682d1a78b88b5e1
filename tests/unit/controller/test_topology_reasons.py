"""What a pending topology job's Reason says when drained nodes, not busy ones, keep it from ever starting."""

from __future__ import annotations

from pathlib import Path

from hal.controller.drain import drain, resume
from tests.unit.controller.topokit import ADMIN, ALTERNATING, controller, submit


def test_drained_nodes_that_keep_a_switch_request_from_ever_fitting_are_named(tmp_path: Path) -> None:
    """QA: one node drained per switch, -N4 --topology required=switch said Topology ("nodes are free...") with
    no forecast, while a plain -N16 job said ReqNodeNotAvail. Only the drains stop it: Slurm's reason names them."""
    with controller(tmp_path, ALTERNATING) as ctl:
        drain(ctl, "node[02-03,09-10]", "qa", ADMIN)
        job = submit(ctl, tmp_path, nodes="4", topology="required=switch", time="1:00")
        segments = submit(ctl, tmp_path, nodes="8", segment="4", time="1:00")  # two whole switches
        relaxed = submit(ctl, tmp_path, nodes="4", switches="1@0", time="1:00")  # no wait: any 4 nodes
        ctl.run_cycle()
        assert ctl.reason(job) == "ReqNodeNotAvail, UnavailableNodes:node[02-03,09-10]"
        assert ctl.reason(segments) == "ReqNodeNotAvail, UnavailableNodes:node[02-03,09-10]"
        assert ctl.live[relaxed].state == "RUNNING"
        resume(ctl, "node02", ADMIN)  # s1 is whole again: the switch job can start
        ctl.run_cycle()
        assert ctl.live[job].state == "RUNNING"


def test_explain_says_how_far_a_required_level_job_is_from_fitting(tmp_path: Path) -> None:
    """QA: `hal explain` said only "free nodes exist, but not within its --topology required=switch" of a job one
    busy node per switch kept waiting; it now says what it needs in one switch and the most one has free."""
    from hal.cli.explain import topology_advice
    from hal.engine.plugins.placement_explain import topology_hold

    with controller(tmp_path, ALTERNATING) as ctl:
        busy = submit(ctl, tmp_path, nodes="4", nodelist="node[01-02,09-10]", exclusive="1", time="1:00")
        ctl.run_cycle()
        job = submit(ctl, tmp_path, nodes="4", topology="required=switch", exclusive="1", time="1:00")
        ctl.run_cycle()
        assert ctl.live[busy].state == "RUNNING" and ctl.reason(job) == "Topology"
        held = topology_hold(ctl.sched, job)
        assert held == (
            "it needs 4 nodes within one switch (--topology required=switch); the most free in one now is 3, so it "
            "waits for jobs there to end"
        )
        assert topology_advice({"placement_request": {"topology_required": "switch"}}, held).startswith(
            "free nodes exist, but it needs 4 nodes within one switch"
        )
        fits = submit(ctl, tmp_path, nodes="3", topology="required=switch", exclusive="1", time="1:00")
        assert topology_hold(ctl.sched, fits) is None  # three fit in one switch: nothing to say
