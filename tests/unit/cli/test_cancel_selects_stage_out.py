"""`hal cancel -u/--me/-n`: scancel acts on every job not yet ended, a job in STAGE_OUT (SO) too, whose stage-out
a cancel now stops (it was left out, its dependants waiting on a long copy)."""

from __future__ import annotations

from typing import Any

from hal.cli.cancel import _matching


class _Client:
    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def whoami(self) -> dict[str, Any]:
        return {"user": "al", "admin": False}

    def list(self, **filters: Any) -> list[dict[str, Any]]:
        self.asked.append(filters)
        rows = [{"job_id": 3, "id": 3, "name": "w", "user": "al", "state": "STAGE_OUT", "array_job_id": None}]
        return [r for r in rows if r["state"] in str(filters.get("state")).split(",")]


def test_a_user_wide_cancel_selects_jobs_in_stage_out() -> None:
    c = _Client()
    assert _matching(c, [], None, None, None, True) == ["3"]
    assert _matching(c, [], None, "w", "SO", True) == ["3"]  # -t SO is a state a cancel acts on
