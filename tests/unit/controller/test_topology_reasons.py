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
