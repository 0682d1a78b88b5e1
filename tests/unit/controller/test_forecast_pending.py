"""Listings say which pending jobs' start forecasts are still being made in the background (``forecast_pending``):
a listing waits at most WAIT for them, and their N/A read as "no forecast possible". A stopped controller stops
the forecast thread too. The slow stand-in forecaster of test_startboard.py makes each forecast last until the
test lets it end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.controller import startboard
from hal.controller.core import Controller
from hal.engine.cycle import Scheduler
from hal.engine.forecast import StartEstimate
from tests.unit.controller.test_startboard import Ctl, Slow, board_with

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture(autouse=True)
def short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(startboard, "WAIT", 0.3, raising=False)


class Partial(Slow):
    """A forecast that starts every job but ``never`` (as a held job, or one past a cut forecast's horizon)."""

    never = 3

    def starts(self, s: Scheduler, now: float) -> dict[int, StartEstimate]:
        got = super().starts(s, now)
        got.pop(self.never, None)
        return got


def settle(board: startboard.StartBoard, ctl: Any, wanted: set[int]) -> dict[int, StartEstimate]:
    deadline = time.monotonic() + 5.0
    while not (got := board.estimates(ctl, wanted)) or board.computing():
        assert time.monotonic() < deadline, "no forecast arrived"
        time.sleep(0.02)
    return got


def test_jobs_a_forecast_in_the_making_will_cover_are_told_apart_from_jobs_without_one() -> None:
    ctl, slow = Ctl(5), Partial()
    board = board_with(slow)
    try:
        got = board.estimates(ctl, {2, 3})
        assert got == {} and board.uncovered({2, 3}, got) == {2, 3}  # the first forecast is still being made
        slow.go.set()
        got = settle(board, ctl, {2, 3})
        assert 2 in got and 3 not in got and board.uncovered({2, 3}, got) == set()  # 3: none, and none coming
        slow.go.clear()
        ctl.add(9)  # a new job: a new forecast is asked for and takes long
        got = board.estimates(ctl, {3, 9})
        assert board.computing() and 9 not in got and board.uncovered({2, 3, 9}, got) == {9}
        slow.go.set()
        deadline = time.monotonic() + 5.0
        while board.computing():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert board.uncovered({3, 9}, got) == {9}  # an answer older than the forecasts made since: ask again
        assert board.uncovered({3, 9}, board.estimates(ctl, {3, 9})) == set()
    finally:
        board.stop()
    assert board.uncovered({9}, {}) == set()  # stopped: nothing is coming


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Controller, TestClient, dict[str, str], Slow]]:
    ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    slow = Slow()
    ctl.board.forecaster = slow  # type: ignore[assignment]
    auth = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    try:
        with TestClient(app) as client:
            yield ctl, client, auth, slow
    finally:
        ctl.stop()
        executor.shutdown()
        store.close()


def test_the_api_flags_pending_jobs_whose_forecast_is_still_being_made(api: Any) -> None:
    """QA: `hal queue --start` showed N/A both for "no forecast possible" and for "still being computed"."""
    ctl, client, auth, slow = api
    submit = {"wrap": "sleep 600", "options": {"nodes": "4", "time": "20:00"}}
    job = client.post("/v1/jobs", json=submit, headers=auth).json()["job_id"]
    held = client.post("/v1/jobs", json={**submit, "options": {"hold": True}}, headers=auth).json()["job_id"]
    jobs = {j["job_id"]: j for j in client.get("/v1/jobs", params={"start": True}, headers=auth).json()["jobs"]}
    assert jobs[job]["forecast_pending"] is True  # answered after WAIT, the forecast still in the making
    assert jobs[held]["forecast_pending"] is False  # a held job gets none: nothing to wait for
    one = client.get(f"/v1/jobs/{job}", params={"start": True}, headers=auth).json()
    assert one["forecast_pending"] is True and one["predicted_start_p90"] is None
    assert "forecast_pending" not in client.get("/v1/jobs", headers=auth).json()["jobs"][0]  # no forecasts asked
    slow.go.set()
    deadline = time.monotonic() + 5.0
    while ctl.board.computing():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    one = client.get(f"/v1/jobs/{job}", params={"start": True}, headers=auth).json()
    assert one["forecast_pending"] is False and one["predicted_start_p90"] == 200.0


def test_a_controller_stopped_in_process_stops_its_forecast_thread(api: Any) -> None:
    ctl, client, auth, slow = api
    client.post("/v1/jobs", json={"wrap": "true", "options": {"time": "1:00"}}, headers=auth)
    client.get("/v1/jobs", params={"start": True}, headers=auth)
    assert slow.busy.wait(2.0)
    thread = ctl.board._thread
    assert thread is not None and thread.is_alive()
    t0 = time.monotonic()
    ctl.stop()
    assert thread is not None and not thread.is_alive() and time.monotonic() - t0 < startboard.JOIN + 1.0
    ctl.stop()  # twice (the server stops the board first, then the controller): no harm
    ctl.board.stop()
