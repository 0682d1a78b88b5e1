"""A --time-min cut is one job's own: an array's tasks share one request object at submission, and a cut written
into it became every sibling's kill limit (QA: tasks started with their whole --time were killed at a sibling's
cut, and one was left with no limit at all)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hal.controller.lowered_limit import lower_limit, restore_limit, staged_cut
from hal.data.launch_clock import start_clock
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


def test_a_cut_job_s_stage_in_comes_off_its_limit_so_the_cut_stays(tmp_path: Path) -> None:
    """QA: a cut job launched after a 6 s stage-in ran its whole lowered limit from the launch, so the head it was
    cut for started 6 s late. The limit now runs from the launch shortened by the staging time (the minimum
    kept); a job that was not cut keeps its limit and its end moves with the launch, as before."""
    with controller(tmp_path, BLOCKS) as ctl:
        cut = submit(ctl, tmp_path, nodes="1", time="2:00:00", time_min="10:00")
        plain = submit(ctl, tmp_path, nodes="1", time="1:00:00")
        ctl.run_cycle()
        act = ctl.sched.running[cut]
        with ctl.store.engine.begin() as conn:
            lower_limit(ctl.store, conn, ctl.live[cut], 1800.0, act.start)
        act.item = replace(act.item, spec=replace(act.item.spec, time_limit=1800.0), estimate=1800.0, upper=1800.0)
        ctl.sched.extend(cut, act.start + 1800.0)
        start = act.start
        assert start_clock(ctl, cut, start + 6.0) == 1794.0
        assert ctl.sched.running[cut].predicted_end == start + 1800.0  # the cut did not move
        assert ctl.store.get(cut)["time_limit"] == 1794.0
        assert start_clock(ctl, plain, start + 6.0) is None
        with ctl.store.engine.begin() as conn:  # never below the minimum
            assert staged_cut(conn, ctl.live[cut], 1790.0)["time_limit"] == 600.0


def test_a_requeue_forgets_the_first_cut_of_a_cut_moved_to_the_whole_time(tmp_path: Path) -> None:
    """A cut moved up to the whole --time is no longer lowered; the requeue still forgets its first cut, or the
    next attempt, started uncut, could be cut back to it."""
    with controller(tmp_path, BLOCKS) as ctl:
        jid = submit(ctl, tmp_path, nodes="1", time="2:00:00", time_min="10:00", hold="1")
        lv = ctl.live[jid]
        with ctl.store.engine.begin() as conn:
            lower_limit(ctl.store, conn, lv, 1800.0, 0.0)
        lv.request = replace(lv.request, time_limit=7200.0, time_lowered=False, time_asked=None)  # moved to --time
        assert lv.request.time_cut == 1800.0
        with ctl.store.engine.begin() as conn:
            restore_limit(conn, lv)
        assert (lv.request.time_limit, lv.request.time_cut) == (7200.0, None)
        assert '"time_cut":null' in ctl.store.get(jid)["request"]
