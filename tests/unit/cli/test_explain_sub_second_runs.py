"""hal explain's time advice says "under a second" of runs shorter than one: "ran at most 0:00" read as if the
jobs had never run (QA)."""

from __future__ import annotations

import pytest

from hal.cli.explain import _advice


def test_runs_under_a_second_are_said_so(capsys: pytest.CaptureFixture[str]) -> None:
    got = {"time_limit": 60.0, "runs": 20, "longest_run": 0.4, "sooner": False}
    _advice({"time": got}, "7")
    text = capsys.readouterr().out
    assert "ran in under a second" in text and "0:00" not in text
    _advice({"time": {**got, "longest_run": 75.0}}, "7")
    assert "ran at most 1:15" in capsys.readouterr().out
