"""hal update refuses, with a message, a change the engine's job checks reject (it answered HTTP 500)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.update import update
from tests.unit.controller.topokit import ADMIN, ALTERNATING, BLOCKS, controller, submit


def test_a_node_count_its_segment_does_not_divide_is_refused(tmp_path: Path) -> None:
    """QA: -N8 --segment=4, then NumNodes=6 NumTasks=6: a ValueError from JobSpec became Internal Server Error."""
    with controller(tmp_path, BLOCKS) as ctl:
        job = submit(ctl, tmp_path, nodes="8", cpus_per_task="2", segment="4", time="1:00", hold="1")
        with pytest.raises(SubmitError, match=r"NumNodes=6 is not a multiple of its --segment=4"):
            update(ctl, str(job), ADMIN, {"NumNodes": "6", "NumTasks": "6"})
        assert update(ctl, str(job), ADMIN, {"NumNodes": "12", "NumTasks": "12"}) == [job]  # a multiple: taken
        assert ctl.live[job].spec.nodes == 12
        with pytest.raises(SubmitError, match=r"NumTasks=4 with NumNodes=12"):  # fewer tasks than nodes
            update(ctl, str(job), ADMIN, {"NumTasks": "4"})


def test_topology_requests_change_by_update_and_a_level_the_cluster_lacks_is_refused(tmp_path: Path) -> None:
    """QA: a job parked for a topology level the cluster no longer has was told to fix it with hal update, but
    no field changed --topology, --switches or --segment (scontrol update job takes Switches=)."""
    with controller(tmp_path, ALTERNATING) as ctl:
        job = submit(ctl, tmp_path, nodes="4", time="1:00", hold="1")
        assert update(ctl, str(job), ADMIN, {"Switches": "1@5:00", "Topology": "required=switch"}) == [job]
        spec = ctl.live[job].spec
        assert (spec.switches, spec.switches_wait, spec.topology_required) == (1, 300.0, "switch")
        update(ctl, str(job), ADMIN, {"topology": "preferred=switch", "switches": "0"})
        spec = ctl.live[job].spec
        assert (spec.switches, spec.topology_required, spec.topology_preferred) == (None, "", "switch")
        with pytest.raises(SubmitError, match=r"unknown topology level 'block4'"):
            update(ctl, str(job), ADMIN, {"Topology": "required=block4"})
        with pytest.raises(SubmitError, match=r"use required=LEVEL, preferred=LEVEL, or none"):
            update(ctl, str(job), ADMIN, {"Topology": "switch"})
        assert update(ctl, str(job), ADMIN, {"Segment": "2"}) == [job] and ctl.live[job].spec.segment == 2
        with pytest.raises(SubmitError, match=r"not a multiple of its --segment=3"):
            update(ctl, str(job), ADMIN, {"Segment": "3"})
        assert ctl.live[job].request.segment == 2  # a refused update changes nothing


def test_a_limit_set_by_hand_is_no_longer_a_cut_to_move(tmp_path: Path) -> None:
    """A --time-min job's lowered limit moves with the head's start (controller/lowered_limit.py) only while it is
    backfill's cut: a TimeLimit an administrator sets is kept as set. TimeMin= sets a pending job's minimum."""
    with controller(tmp_path, BLOCKS) as ctl:
        job = submit(ctl, tmp_path, nodes="1", time="1:00:00", hold="1")
        lv = ctl.live[job]
        lv.request.time_lowered, lv.request.time_asked = True, 3600.0  # as a cut leaves it
        update(ctl, str(job), ADMIN, {"TimeLimit": "30:00", "TimeMin": "10:00"})
        got = ctl.live[job]
        assert (got.request.time_lowered, got.request.time_asked) == (False, None)
        assert (got.spec.time_limit, got.spec.time_min) == (1800.0, 600.0)
