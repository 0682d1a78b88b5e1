"""hal update's time-limit refusals quote times as scontrol prints them (QA LOW: they said -2400 s and +3600 s)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.update import _changed


def job(limit: float | None) -> Any:
    return SimpleNamespace(job_id=5, array_job_id=None, array_task_id=None, request=SimpleNamespace(time_limit=limit))


@pytest.mark.parametrize(
    ("limit", "change", "said"),
    [
        (4800.0, ("-", 7200.0), "job 5: TimeLimit=01:20:00 less 02:00:00 would be -00:40:00; a time limit must stay"),
        (300.0, ("-", 300.0), "TimeLimit=00:05:00 less 00:05:00 would be 00:00:00"),
        (None, ("+", 3600.0), "job 5 has no time limit (TimeLimit=UNLIMITED) to change by +01:00:00"),
        (None, ("-", 90000.0), "to change by -1-01:00:00"),
    ],
)
def test_relative_changes_that_cannot_apply_quote_scontrol_times(
    limit: float | None, change: tuple[str, float], said: str
) -> None:
    with pytest.raises(SubmitError) as caught:
        _changed(None, job(limit), {"time_limit": change}, SimpleNamespace(admin=True), 0.0)  # type: ignore[arg-type]
    assert said in str(caught.value) and not re.search(r"\d s\b", str(caught.value))
