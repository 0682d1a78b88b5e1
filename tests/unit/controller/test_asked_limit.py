"""An administrator's raise of a job's limit is not the user's request: start forecasts learn the user's runtime
errors against the limit she asked for (QA: four jobs raised from 1 to 10 minutes taught ratios of 0.03, and her
next jobs were forecast 10x too short)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from hal.controller.asked_limit import asked
from hal.controller.directives import JobRequest
from hal.controller.startboard import StartBoard
from hal.model.job import JobSpec


def test_a_raise_keeps_what_the_user_asked_for_and_a_cut_is_her_new_word() -> None:
    spec = JobSpec(1, 0.0, time_limit=60.0, user="alice")
    assert asked(spec, JobRequest("x", time_limit=600.0)) == 60.0
    raised = replace(spec, time_limit=600.0, asked_limit=60.0)
    assert asked(raised, JobRequest("x", time_limit=1200.0)) == 60.0  # raised again: still hers
    assert asked(raised, JobRequest("x", time_limit=None)) == 60.0  # made unlimited
    assert asked(raised, JobRequest("x", time_limit=30.0)) is None  # cut below it: the new limit is hers
    assert asked(spec, JobRequest("x", time_limit=30.0)) is None


def test_the_board_learns_the_users_share_of_what_she_asked_for() -> None:
    board = StartBoard()
    for limit, asked_limit in ((600.0, 60.0), (60.0, None)):
        spec = JobSpec(1, 0.0, time_limit=limit, user="alice", asked_limit=asked_limit)
        act = SimpleNamespace(item=SimpleNamespace(spec=spec, estimate=limit), start=0.0)
        board.ended(None, act, 30.0, learn=True)
    assert list(board.forecaster.asked["alice"]) == [0.5, 0.5]  # 30 s of the 60 s asked for, both times
