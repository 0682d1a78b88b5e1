"""A --time-min cut is one job's own: an array's tasks share one request object at submission, and a cut written
into it became every sibling's kill limit (QA: tasks started with their whole --time were killed at a sibling's
cut, and one was left with no limit at all)."""

from __future__ import annotations

from pathlib import Path

from hal.controller.lowered_limit import lower_limit, restore_limit
from tests.unit.controller.topokit import BLOCKS, controller, submit


def test_a_task_s_cut_and_its_restore_leave_its_siblings_alone(tmp_path: Path) -> None:
    with controller(tmp_path, BLOCKS) as ctl:
        first = submit(ctl, tmp_path, nodes="1", time="2:00:00", time_min="10:00", array="0-2", hold="1")
        tasks = [ctl.live[j] for j in sorted(ctl.live) if ctl.live[j].array_job_id == first]
        assert len(tasks) == 3 and tasks[0].request is tasks[1].request  # shared, as submitted
        with ctl.store.engine.begin() as conn:
            lower_limit(ctl.store, conn, tasks[0], 1800.0, 0.0)
        assert (tasks[0].request.time_limit, tasks[0].spec.time_limit) == (1800.0, 1800.0)
        assert tasks[0].request.time_lowered and tasks[0].request.time_asked == 7200.0
        for sibling in tasks[1:]:
            assert (sibling.request.time_limit, sibling.request.time_lowered) == (7200.0, False)
        with ctl.store.engine.begin() as conn:
            restore_limit(conn, tasks[0])
        assert (tasks[0].request.time_limit, tasks[0].request.time_lowered) == (7200.0, False)
