"""Each earlier attempt keeps the time limit it ran with (sacct -D's Timelimit), on SQLite and PostgreSQL; attempts a
state folder kept before the column existed take their job's limit, as they were shown until then."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hal.controller import store as store_module
from hal.controller.attempts import attempt_row, attempts_of, record_attempt
from hal.controller.store import Store, sqlite_url
from tests.unit.controller.test_attempts import _at, _job
from tests.unit.controller.test_store import _pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "hal.db")
        return
    yield from _pg_schema()


def test_an_attempt_keeps_its_own_limit_and_old_ones_take_their_job_s(url: str) -> None:
    _at(url, "0004")  # attempts without limits
    engine = store_module.make_engine(url)
    with engine.begin() as conn:
        conn.execute(store_module.jobs.insert(), [_job(1, state="PENDING", time_limit=600.0, restarts=1)])
        old = {"job_id": 1, "restarts": 0, "state": "REQUEUED", "start_time": 10.0, "end_time": 20.0, "charged": True}
        conn.execute(sa.text("INSERT INTO job_attempts (job_id, restarts, state, start_time, end_time, charged) "
                             "VALUES (:job_id, :restarts, :state, :start_time, :end_time, :charged)"), old)  # fmt: skip
    engine.dispose()
    store = Store(url)  # upgrades on start
    try:
        with store.engine.begin() as conn:
            store.update_job(conn, 1, {"state": "RUNNING", "start_time": 30.0, "time_limit": 45.0})  # a cut
            record_attempt(conn, 1, 40.0, "REQUEUED", "requeued by root", charged=True)
            store.update_job(conn, 1, {"state": "RUNNING", "start_time": 50.0, "time_limit": 600.0})  # --time back
        runs = attempts_of(store, [1])[1]
        assert [r["time_limit"] for r in runs] == [600.0, 45.0]
        job = store.get(1) or {}
        assert [attempt_row(job, r)["time_limit"] for r in runs] == [600.0, 45.0] and job["time_limit"] == 600.0
        with store.engine.begin() as conn:
            store.update_job(conn, 1, {"time_limit": None})  # UNLIMITED: kept as none, not as the job's
            record_attempt(conn, 1, 60.0, "REQUEUED", "requeued by root", charged=True)
        assert attempts_of(store, [1])[1][-1]["time_limit"] is None
    finally:
        store.close()
