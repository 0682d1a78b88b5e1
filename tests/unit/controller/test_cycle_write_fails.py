"""A database write that fails right after a scheduling cycle leaves no phantom start (QA: note_eligible's commit
failed with AdminShutdown, so the cycle's start was never recorded nor put back: the job stayed PENDING with
Priority=N/A while the engine held its nodes, until a restart). The job either starts (its start was recorded
before the bookkeeping that failed) or is pending again and starts once the database takes writes; its
EligibleTime is kept either way."""

from __future__ import annotations

import getpass
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.store import sqlite_url
from tests.unit.controller.test_event_retry import _controller, _until
from tests.unit.pg_schema import PG, pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "hal.db")
        return
    with pg_schema() as found:
        yield found


def _pass(ctl: Controller) -> None:
    """One pass of the controller's loop, run here: ends recorded, then a cycle."""
    with ctl.lock:
        assert ctl._handle(ctl.executor.events())
        ctl.run_cycle()


def _fail_next_cycle(ctl: Controller, url: str, tmp_path: Path) -> Any:
    """The next cycle's writes fail for real: another connection holds SQLite's write lock (released by the
    returned callable), or, on PostgreSQL, the controller's connection is terminated (pg_terminate_backend) as
    the cycle's EligibleTime bookkeeping reads the dependant's request, after its start was recorded."""
    if url.startswith("sqlite"):
        other = sqlite3.connect(tmp_path / "hal.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        return lambda: (other.execute("COMMIT"), other.close())
    admin, done = sa.create_engine(PG), []

    def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not done and statement.startswith("SELECT jobs.request"):
            done.append(True)
            with admin.connect() as kill:
                pid = conn.connection.dbapi_connection.info.backend_pid
                kill.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    sa.event.listen(ctl.store.engine, "after_cursor_execute", after)
    return lambda: (sa.event.remove(ctl.store.engine, "after_cursor_execute", after), admin.dispose())


def test_a_write_failing_after_a_cycle_leaves_no_phantom_start(url: str, tmp_path: Path) -> None:
    ctl = _controller(tmp_path, url)
    user = getpass.getuser()
    try:
        first = build_request("#!/bin/sh\ntrue\n", {"ntasks": "2"}, {}, str(tmp_path), 0)
        job = ctl.submit(first, user).job_ids[0]
        after = build_request("#!/bin/sh\ntrue\n", {"dependency": f"afterok:{job}"}, {}, str(tmp_path), 0)
        dependant = ctl.submit(after, user).job_ids[0]
        _pass(ctl)
        assert ctl.live[job].state == "RUNNING"
        _until(lambda: _ended(ctl, job))
        assert dependant not in ctl.sched.running
        recover = _fail_next_cycle(ctl, url, tmp_path)
        with ctl.lock, pytest.raises(sa.exc.OperationalError):
            ctl.run_cycle()  # the dependant's dependency is met: planned to start, then a write fails
        recover()
        state = ctl.live[dependant].state if dependant in ctl.live else "ended"
        if state == "PENDING":  # put back: not running in the engine, its nodes free
            assert dependant not in ctl.sched.running and not ctl.machine.holdings.get(dependant)
            assert (ctl.sched.book.free == ctl.sched.book.table.capacity).all()
        else:  # started: recorded so
            assert (ctl.store.get(dependant) or {}).get("state") in ("RUNNING", "COMPLETED")
        _until(lambda: _step(ctl, dependant))
        row = ctl.store.get(dependant) or {}
        assert json.loads(row["request"]).get("_eligible") is not None  # its EligibleTime, kept for the retry
    finally:
        ctl.executor.shutdown()  # type: ignore[attr-defined]
        ctl.store.close()


def _ended(ctl: Controller, job: int) -> bool:
    with ctl.lock:
        assert ctl._handle(ctl.executor.events())
    return job not in ctl.live


def _step(ctl: Controller, job: int) -> bool:
    _pass(ctl)
    return (ctl.store.get(job) or {}).get("state") == "COMPLETED"
