"""A job that ends while the database takes no writes is recorded once the database is back (QA: it stayed RUNNING,
its CPUs held and its afterok dependent waiting, until a restart re-read the spool): charged to fair share once,
its nodes freed, its dependent started, whether the outage failed the transaction's first write (a locked SQLite,
an unreachable PostgreSQL) or only its commit (a full disk, a connection lost at COMMIT)."""

from __future__ import annotations

import getpass
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.event_retry import PendingEnds
from hal.controller.jobs import new_row, request_json
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.executors.api import ExecEvent, ExecEventKind
from hal.executors.local import LocalExecutor
from tests.unit.pg_schema import pg_schema

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "hal.db")
        return
    with pg_schema() as found:
        yield found


def _controller(tmp: Path, url: str) -> Controller:
    store = Store(url)
    if url.startswith("sqlite"):

        @sa.event.listens_for(store.engine, "connect")
        def _short_wait(dbapi_conn: Any, _record: Any) -> None:  # a lock held longer than this is an outage
            dbapi_conn.execute("PRAGMA busy_timeout=200")

        store.engine.dispose()
    ctl = Controller(store, Machine.load(EXAMPLE), LocalExecutor(tmp / "spool", kill_wait=1.0), grace=0.5)
    recover(ctl)
    return ctl


def _until(done: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _locked(db: Path, seconds: float) -> threading.Thread:
    """Another process's writer holds the database for ``seconds``."""
    taken = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        taken.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    taken.wait(5)
    return thread


def _failing(ctl: Controller, seconds: float, what: str) -> threading.Thread:
    """For ``seconds`` the controller's commits fail (the statements ran, the transaction is rolled back: a full
    disk, a connection lost at COMMIT), or each of its statements does (the server unreachable)."""
    until = time.monotonic() + seconds

    def fail(*_args: Any) -> None:
        if time.monotonic() < until and threading.current_thread().name == "hal-controller":
            raise sa.exc.OperationalError(what, {}, OSError("server closed the connection unexpectedly"))

    sa.event.listen(ctl.store.engine, "commit" if what == "COMMIT" else "before_cursor_execute", fail)
    thread = threading.Thread(target=time.sleep, args=(seconds,), daemon=True)
    thread.start()
    return thread


OUTAGES = [("sqlite", "locked"), ("sqlite", "commit"), ("postgresql", "statements"), ("postgresql", "commit")]


@pytest.mark.parametrize(("url", "outage"), OUTAGES, indirect=["url"])
def test_a_job_ending_in_a_database_outage_is_recorded_once_it_is_back(
    url: str, outage: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctl = _controller(tmp_path, url)
    user = getpass.getuser()
    ctl.start()
    try:
        first = build_request("#!/bin/sh\nsleep 1\n", {"ntasks": "2"}, {}, str(tmp_path), 0)
        job = ctl.submit(first, user).job_ids[0]
        after = build_request("#!/bin/sh\ntrue\n", {"dependency": f"afterok:{job}"}, {}, str(tmp_path), 0)
        dependent = ctl.submit(after, user).job_ids[0]
        _until(lambda: (ctl.store.get(job) or {}).get("state") == "RUNNING")
        with caplog.at_level(logging.DEBUG, logger="hal.controller"):
            if outage == "locked":
                outage_over = _locked(tmp_path / "hal.db", 4.0)
            else:
                outage_over = _failing(ctl, 4.0, "COMMIT" if outage == "commit" else "UPDATE")
            time.sleep(2.5)  # the job ended (1 s) while no write went through
            assert (ctl.store.get(job) or {}).get("state") == "RUNNING"
            assert (ctl.store.get(dependent) or {}).get("state") == "PENDING"
            outage_over.join()
            _until(lambda: (ctl.store.get(dependent) or {}).get("state") == "COMPLETED")
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "cannot record job ends" in errors[0].getMessage()  # once, not each pass
        assert any("takes writes again" in r.getMessage() for r in caplog.records)
    finally:
        ctl.stop()
    row, dep = ctl.store.get(job) or {}, ctl.store.get(dependent) or {}
    assert (row["state"], row["exit_code"]) == ("COMPLETED", 0)
    assert row["end_time"] <= dep["start_time"]
    assert not ctl.sched.running and not any(ctl.machine.used_cpus) and not ctl.live and not ctl.ends
    spent = sum((r["end_time"] - r["start_time"]) * r["alloc_cpus"] for r in (row, dep))
    assert ctl.sched.ledger.usage(time.time())[user] == pytest.approx(spent, rel=0.05)  # charged once
    assert ctl.ended_total["COMPLETED"] == 2


class _Ends:
    """The part of a controller ``PendingEnds`` drives: each end written to its job's row, applied in memory once."""

    def __init__(self, store: Store, poison: int) -> None:
        self.store, self.poison, self.applied = store, poison, Counter[int]()
        self.live: dict[int, object] = {}
        self.forgotten: list[int] = []
        self.executor, self.wake = SimpleNamespace(forget=self.forgotten.extend), threading.Event()

    def _ended(self, conn: Any, ev: ExecEvent) -> None:
        self.applied[ev.job_id] += 1
        self.store.update_job(conn, ev.job_id, {"state": "COMPLETED"}, (ev.job_id, ev.time, "COMPLETED", "done"))
        if ev.job_id == self.poison:
            raise KeyError(ev.job_id)  # a fault of the controller's, past its memory changes


def _row(job_id: int) -> dict[str, Any]:
    req = build_request("#!/bin/sh\ntrue\n", {}, {}, "/tmp", 0.0)
    return new_row(job_id, req, "alice", 0.0, None, request_json(req, []))


def test_ends_are_applied_once_and_a_faulty_one_is_dropped_alone(tmp_path: Path) -> None:
    """An end applied in memory whose commit failed is replayed from its writes, never applied again; a fault of
    one end's own (not the store's) drops that end alone, the others of its pass recorded."""
    store = Store(sqlite_url(tmp_path / "hal.db"))
    try:
        with store.engine.begin() as conn:
            store.insert_jobs(conn, [_row(j) for j in (1, 2, 3, 4)], 0.0, "submitted")
        ctl = _Ends(store, poison=3)
        ends = PendingEnds(ctl)
        failing = [True]

        def commit(_conn: Any) -> None:
            if failing[0]:
                raise sa.exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))

        sa.event.listen(store.engine, "commit", commit)
        assert not ends.handle([ExecEvent(1, ExecEventKind.ENDED, 5.0)])  # applied, its commit failed
        assert not ends.handle([ExecEvent(j, ExecEventKind.ENDED, 6.0) for j in (2, 3)])  # behind 1's replay
        assert store.states([1, 2]) == {1: "PENDING", 2: "PENDING"} and ctl.applied == {1: 1}
        failing[0] = False
        assert ends.handle([ExecEvent(4, ExecEventKind.ENDED, 7.0)]) and not ends
        assert ctl.applied == {1: 1, 2: 1, 3: 1, 4: 1}  # each end applied in memory once, never again
        assert store.states([1, 2, 3, 4]) == {1: "COMPLETED", 2: "COMPLETED", 3: "PENDING", 4: "COMPLETED"}
        assert sorted(ctl.forgotten) == [1, 2, 4]  # 3's spool record is kept: a restart records its end
        with store.engine.connect() as conn:
            ended = conn.execute(sa.text("SELECT job_id FROM job_events WHERE state = 'COMPLETED'")).scalars()
            assert sorted(ended) == [1, 2, 4]  # each written once
    finally:
        store.close()
