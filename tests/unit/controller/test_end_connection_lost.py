"""A job whose end is being recorded when its PostgreSQL connection is terminated, past the claim that proved it
alive, is recorded once the database answers (QA: it stayed RUNNING for good while its CPUs were freed and its
afterok dependant started; `hal cancel` then left it CG); and ends whose COMMIT went through though it reported a
failure are not recorded twice when their writes are replayed."""

from __future__ import annotations

import getpass
import logging
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from hal.controller.deferred_writes import DeferredWrites, committed, run
from hal.controller.directives import build_request
from hal.controller.event_retry import PendingEnds
from hal.controller.store import Store, jobs, sqlite_url
from hal.executors.api import ExecEvent, ExecEventKind
from tests.unit.controller.test_event_retry import _controller, _row, _until
from tests.unit.pg_schema import PG, pg_schema


def _terminate_after_claim(ctl: Any) -> list[int]:
    """Once the controller's claim ran, its connection's server process is ended by another session
    (pg_terminate_backend, as the QA operator did): every statement after it on that connection fails."""
    killed: list[int] = []
    admin = sa.create_engine(PG)

    def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if killed or not statement.startswith("UPDATE jobs SET id = id"):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with admin.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed.append(pid)

    sa.event.listen(ctl.store.engine, "after_cursor_execute", after)
    return killed


def test_an_end_whose_connection_is_terminated_past_the_claim_is_recorded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pg_schema() as url:
        ctl = _controller(tmp_path, url)
        user = getpass.getuser()
        ctl.start()
        try:
            first = build_request("#!/bin/sh\nsleep 1\n", {"ntasks": "2"}, {}, str(tmp_path), 0)
            job = ctl.submit(first, user).job_ids[0]
            after = build_request("#!/bin/sh\ntrue\n", {"dependency": f"afterok:{job}"}, {}, str(tmp_path), 0)
            dependent = ctl.submit(after, user).job_ids[0]
            _until(lambda: (ctl.store.get(job) or {}).get("state") == "RUNNING")
            with caplog.at_level(logging.INFO, logger="hal.controller"):
                with ctl.lock:
                    killed = _terminate_after_claim(ctl)
                _until(lambda: (ctl.store.get(dependent) or {}).get("state") == "COMPLETED", within=15)
            assert killed, "no claim ran on a terminated connection"
            assert not any("could not be recorded" in r.getMessage() for r in caplog.records)
        finally:
            ctl.stop()
        row, dep = ctl.store.get(job) or {}, ctl.store.get(dependent) or {}
        with ctl.store.engine.connect() as conn:
            q = "SELECT count(*) FROM job_events WHERE job_id = :j AND state = 'COMPLETED'"
            events = conn.execute(sa.text(q), {"j": job}).scalar()
        ctl.store.close()
    assert (row["state"], row["exit_code"], events) == ("COMPLETED", 0, 1)  # recorded, and once
    assert row["end_time"] <= dep["start_time"]
    assert not ctl.live and not ctl.ends and not any(ctl.machine.used_cpus)
    assert ctl.ended_total["COMPLETED"] == 2


class _Ends:
    """The part of a controller ``PendingEnds`` drives: each end written to its job's row, applied once."""

    def __init__(self, store: Store) -> None:
        self.store, self.applied, self.live = store, Counter[int](), {}
        self.executor, self.wake = SimpleNamespace(forget=lambda _ids: None), threading.Event()

    def _ended(self, conn: Any, ev: ExecEvent) -> None:
        self.applied[ev.job_id] += 1
        self.store.update_job(conn, ev.job_id, {"state": "COMPLETED"}, (ev.job_id, ev.time, "COMPLETED", "done"))


def test_writes_whose_commit_went_through_unacknowledged_are_not_replayed(tmp_path: Path) -> None:
    """A COMMIT that reached the database but reported a failure (its connection lost at that moment): the replay
    finds the end's event and writes nothing again."""
    store = Store(sqlite_url(tmp_path / "hal.db"))
    try:
        with store.engine.begin() as conn:
            store.insert_jobs(conn, [_row(1)], 0.0, "submitted")
        ctl = _Ends(store)
        ends = PendingEnds(ctl)
        lost = [True]

        def commit(conn: Any) -> None:
            if lost[0]:
                lost[0] = False
                conn.connection.dbapi_connection.commit()  # it reached the database...
                raise sa.exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))  # ...unsaid

        sa.event.listen(store.engine, "commit", commit)
        assert not ends.handle([ExecEvent(1, ExecEventKind.ENDED, 5.0)])
        assert ends.handle([]) and not ends
        assert ctl.applied == {1: 1}
        with store.engine.connect() as conn:
            ended = conn.execute(sa.text("SELECT count(*) FROM job_events WHERE state = 'COMPLETED'")).scalar()
        assert ended == 1
    finally:
        store.close()


def test_a_read_on_a_terminated_connection_is_read_again_and_the_writes_kept() -> None:
    """An end that reads its row (a requeue keeps its attempt) after the connection died reads it on a new one;
    its writes are kept, to run once the database answers."""
    with pg_schema() as url:
        store = Store(url)
        try:
            with store.engine.begin() as conn:
                store.insert_jobs(conn, [_row(1)], 0.0, "submitted")
            with store.engine.connect() as conn, sa.create_engine(PG).connect() as admin:
                conn.begin()
                deferred = DeferredWrites(conn, store.engine)
                pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
                admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                state = deferred.execute(sa.select(jobs.c.state).where(jobs.c.id == 1)).scalar_one()
                store.update_job(deferred, 1, {"state": "COMPLETED"}, (1, 5.0, "COMPLETED", "done"))  # type: ignore[arg-type]
            assert state == "PENDING" and len(deferred.writes) == 2 and store.states([1]) == {1: "PENDING"}
            with store.engine.begin() as conn:
                assert not committed(conn, deferred.writes)
                run(conn, deferred.writes)
                assert committed(conn, deferred.writes)
            assert store.states([1]) == {1: "COMPLETED"}
        finally:
            store.close()
