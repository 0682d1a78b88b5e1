"""hal queue -t all (and -t all,CG) listed every job ever ended, not the 5 minutes (squeue's MinJobAge=300) that
-t CD and -j show: parse_states gives no states to keep for ``all``, and the window was only asked for then."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.unit.cli.test_queue_submit_qa import FakeClient, job, run


class Client(FakeClient):
    """Applies ``since`` as the API does: jobs not ended, or ended at or after it."""

    def list(self, state: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        since = filters.get("since")
        jobs = super().list(state, **filters)
        return [j for j in jobs if since is None or j["end_time"] is None or j["end_time"] >= since]


def test_state_all_lists_ended_jobs_of_the_last_five_minutes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    jobs = [
        job(1, "COMPLETED", start_time=now - 7200, end_time=now - 3600, reason=None),  # ended an hour ago
        job(2, "COMPLETED", start_time=now - 120, end_time=now - 60, reason=None),
        job(3, "RUNNING", nodelist="vn000", start_time=now - 30, elapsed=30.0),
        job(4),
    ]
    for states in ("all", "ALL", "all,CG"):
        res = run(monkeypatch, Client(jobs), "queue", "-h", "-o", "%i", "-t", states)
        assert res.exit_code == 0, res.output
        assert sorted(res.stdout.split()) == ["2", "3", "4"], states  # not job 1, ended an hour ago
    cd = run(monkeypatch, Client(jobs), "queue", "-h", "-o", "%i", "-t", "CD")
    assert cd.stdout.split() == ["2"]  # the window -t all now shares
