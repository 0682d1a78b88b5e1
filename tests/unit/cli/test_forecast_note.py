"""What `hal queue --start` and `hal show` say while start forecasts are still being made in the background, and
hal show's Priority= (scontrol show job prints it)."""

from __future__ import annotations

from typing import Any

from hal.cli import show as show_cli
from tests.unit.cli.test_show import JOB

PENDING: dict[str, Any] = {**JOB, "state": "PENDING", "reason": "Resources", "nodelist": "", "start_time": None}


def test_queue_notes_how_many_forecasts_are_still_being_computed() -> None:
    """QA: N/A in START_TIME said nothing of whether a forecast was coming; now a line under the table does."""
    from hal.cli.queue import forecast_note  # here: the other tests here stand without it

    jobs = [{"forecast_pending": True}, {"forecast_pending": False}, {}, {"forecast_pending": True}]
    assert forecast_note(jobs) == "start forecasts for 2 jobs are still being computed; run again in a few seconds"
    assert forecast_note(jobs[:1]) == "the start forecast for 1 job is still being computed; run again in a few seconds"
    assert forecast_note(jobs[1:3]) is None


def test_show_says_a_pending_jobs_forecast_is_still_being_computed() -> None:
    said = "\n".join(show_cli._lines({**PENDING, "forecast_pending": True}))
    assert "StartTime=Unknown" in said and "its start forecast is still being computed" in said
    assert "still being computed" not in "\n".join(show_cli._lines({**PENDING, "forecast_pending": False}))


def test_show_gives_a_pending_jobs_expected_start_and_end_as_scontrol_does() -> None:
    """scontrol show job prints a pending job's expected StartTime (and EndTime = StartTime + TimeLimit); hal show
    printed Unknown and put the forecast only on its Why= line."""
    from hal.cli.live import stamp

    said = "\n".join(show_cli._lines({**PENDING, "predicted_start": 2000.0, "time_limit": 600}))
    assert f"StartTime={stamp(2000.0)} EndTime={stamp(2600.0)}" in said


def test_show_prints_the_pending_jobs_priority() -> None:
    """QA: no Priority= in hal show; it is the multifactor priority hal prio and hal queue's %Q show."""
    assert "   Priority=1234 Nice=0 " in "\n".join(show_cli._lines({**PENDING, "priority": 1234.4}))
    assert "   Priority=N/A Nice=0 " in "\n".join(show_cli._lines(JOB))  # a running job: none kept


def test_explain_says_a_pending_jobs_forecast_is_still_being_computed(capsys: Any) -> None:
    """hal queue and hal show said so; hal explain printed nothing about the start until the forecast came."""
    from hal.cli import explain as explain_cli
    from hal.cli.live import stamp

    explain_cli._pending({**PENDING, "forecast_pending": True, "predicted_start": 2000.0})
    said = " ".join(capsys.readouterr().out.split())
    assert "forecast start: still being computed (run hal explain again in a few seconds)" in said
    assert f"the planner starts it at {stamp(2000.0)}" in said
    explain_cli._pending({**PENDING, "predicted_start": 2000.0, "predicted_start_p90": 2600.0})
    said = " ".join(capsys.readouterr().out.split())
    assert f"forecast start: {stamp(2000.0)}, by {stamp(2600.0)} at 90%" in said and "still being" not in said
