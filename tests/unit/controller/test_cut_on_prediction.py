"""A --time-min cut at the head's start as a prediction puts it: when that start is the predicted end of a running
job ahead (short of its own limit), the cut job is given a little longer to see whether the prediction holds; a
kill at the cut came before anyone could know, and the head stayed blocked by the job ahead (QA: 83 s more)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hal.controller.directives import build_request
from hal.controller.lowered_limit import LEAD, extend_lowered
from tests.clusters import cluster_toml
from tests.unit.controller.test_parked import controller


def submit(ctl: Any, tmp: Path, **options: str) -> int:
    """A job that runs until the test ends: the executor moves only a running job's limit (retime)."""
    req = build_request("#!/bin/sh\nsleep 300\n", {k.replace("_", "-"): v for k, v in options.items()}, {}, str(tmp), 0)
    return int(ctl.submit(req, "root").job_ids[0])


def test_a_cut_resting_on_a_prediction_waits_for_it_and_one_on_a_limit_does_not(tmp_path: Path) -> None:
    with controller(tmp_path, cluster_toml(name="c", nodes=2, cpus=2, mem="1G")) as ctl:
        ahead = submit(ctl, tmp_path, nodes="1", ntasks="2", time="10:00")  # a whole node
        ctl.run_cycle()
        start = ctl.sched.running[ahead].start
        ctl.sched.extend(ahead, start + 100.0)  # planned on a prediction: 100 s of its 10 minutes
        head = submit(ctl, tmp_path, nodes="2", ntasks="4", time="1:00")
        cut = submit(ctl, tmp_path, nodes="1", ntasks="2", time="1:00:00", time_min="0:30")
        ctl.run_cycle()
        act = ctl.sched.running[cut]
        limit = float(ctl.live[cut].request.time_limit)
        assert head not in ctl.sched.running and act.start + limit <= start + 101.0  # cut at the predicted end
        extend_lowered(ctl, act.start + limit - LEAD / 2)
        moved = float(ctl.live[cut].request.time_limit)
        assert moved == start + 100.0 - act.start + 2 * LEAD  # a look after the prediction, not a kill at it
        ctl.sched.extend(ahead, start + 600.0)  # the job ahead now planned on its own limit: nothing to wait for
        extend_lowered(ctl, act.start + moved - LEAD / 2)
        assert float(ctl.live[cut].request.time_limit) >= start + 599.0 - act.start  # to the head's new start (whole s)


def test_a_moved_cut_comes_back_when_the_head_can_start_sooner_again(tmp_path: Path) -> None:
    """QA: a job ahead was planned on its limit once it outlived its prediction, the cut job's limit moved to that
    start, then the job ahead ended soon after and the head waited for the cut job's whole --time. The limit now
    comes back to the head's start (never below the first cut, and LEAD from now at the soonest)."""
    with controller(tmp_path, cluster_toml(name="c", nodes=2, cpus=2, mem="1G")) as ctl:
        ahead = submit(ctl, tmp_path, nodes="1", ntasks="2", time="10:00")
        ctl.run_cycle()
        start = ctl.sched.running[ahead].start
        ctl.sched.extend(ahead, start + 100.0)
        head = submit(ctl, tmp_path, nodes="2", ntasks="4", time="1:00")
        cut = submit(ctl, tmp_path, nodes="1", ntasks="2", time="1:00:00", time_min="0:30")
        ctl.run_cycle()
        act = ctl.sched.running[cut]
        first = float(ctl.live[cut].request.time_limit)
        ctl.sched.extend(ahead, start + 600.0)  # outlived its prediction: planned on its limit
        extend_lowered(ctl, act.start + first - LEAD / 2)
        moved = float(ctl.live[cut].request.time_limit)
        assert moved >= start + 599.0 - act.start and ctl.live[cut].request.time_cut == first
        now = act.start + first + 30.0
        extend_lowered(ctl, now)  # the job ahead still runs: nothing to gain, the limit stays
        assert float(ctl.live[cut].request.time_limit) == moved
        ctl.sched.finish(ahead, now, ok=True)  # it ended early: the head waits for the cut job alone
        extend_lowered(ctl, now)
        back = ctl.live[cut].request
        assert back.time_limit == float(math.ceil(now - act.start + LEAD)) and back.time_lowered
        assert back.time_asked == 3600.0 and ctl.sched.running[cut].predicted_end == act.start + back.time_limit
        assert ctl.store.get(cut)["time_limit"] == back.time_limit
        assert any("cut back" in e["cause"] for e in ctl.store.events_of(cut)) and ctl.sched.queue.get(head) is not None


def test_with_no_job_waiting_a_cut_job_goes_on_a_step_and_says_why(tmp_path: Path) -> None:
    """QA: once the job it was cut for had started and nobody waited, a cut job went on in 5-minute steps with a
    message that the job it was cut for had 'no planned start (held, or nodes it needs are out)'."""
    with controller(tmp_path, cluster_toml(name="c", nodes=2, cpus=2, mem="1G")) as ctl:
        ahead = submit(ctl, tmp_path, nodes="1", ntasks="2", time="10:00")
        ctl.run_cycle()
        head = submit(ctl, tmp_path, nodes="2", ntasks="4", time="1:00")
        cut = submit(ctl, tmp_path, nodes="1", ntasks="2", time="1:00:00", time_min="0:30")
        ctl.run_cycle()
        act = ctl.sched.running[cut]
        assert ctl.live[cut].request.time_lowered and ahead in ctl.sched.running
        ctl.sched.hold(head, True, act.start)  # held: nobody waits for the cut job's node now
        limit = float(ctl.live[cut].request.time_limit)
        extend_lowered(ctl, act.start + limit - LEAD / 2)
        assert float(ctl.live[cut].request.time_limit) > limit
        said = [e["cause"] for e in ctl.store.events_of(cut) if "extended" in (e["cause"] or "")]
        assert said and "no job waits in the queue now" in said[-1]
