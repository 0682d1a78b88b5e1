"""Earlier attempts of requeued jobs (sacct -D): kept in their own table, added by a migration that upgrades an
existing state folder, and recharged to fair share after a restart exactly once, on SQLite and PostgreSQL. Each
keeps the time limit it ran with (sacct -D's Timelimit); attempts kept before that column take their job's."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from hal.controller import store as store_module
from hal.controller.attempts import attempt_row, attempts_of, record_attempt
from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.jobs import new_row, request_json
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.requeue import requeue
from hal.controller.store import Store, sqlite_url
from hal.executors.api import ExecEvent, ExecEventKind
from hal.executors.local import LocalExecutor
from hal.model.job import JobState
from tests.unit.pg_schema import pg_schema

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "hal.db")
        return
    with pg_schema() as found:
        yield found


def _at(url: str, revision: str) -> None:
    """A database as an earlier release left it."""
    engine = store_module.make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store_module.__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def _job(job_id: int, **values: object) -> dict[str, object]:
    req = build_request("#!/bin/sh\ntrue\n", {"account": "physics"}, {}, "/tmp", 0.0)
    return {**new_row(job_id, req, "alice", 1.0, None, request_json(req, [])), **values}


def test_an_upgraded_database_keeps_attempts_and_charges_each_once(url: str) -> None:
    _at(url, "0003")  # the previous head: no job_attempts table
    engine = store_module.make_engine(url)
    with engine.begin() as conn:
        conn.execute(store_module.jobs.insert(), [_job(1, state="COMPLETED", start_time=10.0, end_time=20.0,
                                                       alloc_cpus=2, nodelist="vn000")])  # fmt: skip
    engine.dispose()
    store = Store(url)  # upgrades on start, as `hal server` does
    try:
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        assert [(r["end_time"], r["alloc_cpus"]) for r in store.usage_rows()] == [(20.0, 2)]  # the old row, once
        with store.engine.begin() as conn:
            store.insert_jobs(conn, [_job(2, state="RUNNING", start_time=3.0, alloc_cpus=4, nodelist="vn[001-002]")],
                              3.0, "submitted")  # fmt: skip
            ev = ExecEvent(2, ExecEventKind.ENDED, 8.0, JobState.NODE_FAIL, None, 9, 1.5, 12.0, "node down", 3.0)
            record_attempt(conn, 2, 8.0, "NODE_FAIL", "node down", charged=True, ended=ev)
            store.update_job(conn, 2, {"state": "RUNNING", "start_time": 30.0, "nodelist": "vn003", "alloc_cpus": 1})
            record_attempt(conn, 2, 31.0, "NODE_FAIL", "stage-in failed", charged=False)  # never charged live
            store.update_job(conn, 2, {"state": "COMPLETED", "start_time": 40.0, "end_time": 45.0})
            store.insert_jobs(conn, [_job(3)], 1.0, "submitted")
            record_attempt(conn, 3, 50.0, "REQUEUED", "pending", charged=True)  # it never started: nothing to keep
        found = attempts_of(store, [1, 2, 3])
        assert list(found) == [2]
        first, second = found[2]
        assert (first["state"], first["start_time"], first["end_time"], first["nodelist"]) == (
            "NODE_FAIL", 3.0, 8.0, "vn[001-002]"
        )  # fmt: skip
        assert (first["alloc_cpus"], first["signal"], first["cpu_seconds"], first["account"]) == (4, 9, 1.5, "physics")
        assert (second["nodelist"], second["charged"], second["exit_code"]) == ("vn003", False, None)
        usage = [(r["user"], r["account"], r["start_time"], r["end_time"], r["alloc_cpus"]) for r in store.usage_rows()]
        assert usage == [
            ("alice", "physics", 3.0, 8.0, 4),  # the first attempt: charged when it ended
            ("alice", "physics", 10.0, 20.0, 2),
            ("alice", "physics", 40.0, 45.0, 1),  # the last attempt, from the job's own row
        ]  # in end order (the ledger decays forward); the failed stage-in is not charged
        shown = attempt_row({**(store.get(2) or {}), "queue_position": 3}, first)
        assert (shown["id"], shown["state"], shown["start_time"], shown["nodelist"]) == (
            2,
            "NODE_FAIL",
            3.0,
            "vn[001-002]",
        )
        assert "queue_position" not in shown and shown["user"] == "alice"  # the job's, not its present
    finally:
        store.close()
    Store(url).close()  # and the upgrade is idempotent on the next start


def _controller(tmp: Path) -> Controller:
    store = Store(sqlite_url(tmp / "hal.db"))
    ctl = Controller(store, Machine.load(EXAMPLE), LocalExecutor(tmp / "spool", kill_wait=1.0), grace=0.5)
    recover(ctl)
    return ctl


def _until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_requeued_runs_are_kept_and_charged_once_across_a_restart(tmp_path: Path) -> None:
    """A running job requeued, then requeued again after it completed: three runs, each in the accounting and in
    fair share, the job's own row the last one; a restart recharges the same usage, not more and not less."""
    ctl = _controller(tmp_path)
    ctl.start()
    user = getpass.getuser()
    who = Identity(user, True)
    try:
        script = (
            '#!/bin/sh\nif [ -z "$SLURM_RESTART_COUNT" ]; then sleep 60; else sleep 0.4; fi\n'  # first: until requeued
        )
        req = build_request(script, {"ntasks": "2", "account": "physics"}, {}, str(tmp_path), 0)
        job = ctl.submit(req, user).job_ids[0]
        _until(lambda: (ctl.store.get(job) or {}).get("state") == "RUNNING")
        requeue(ctl, str(job), who)  # running: it stops (REQUEUED) and runs again
        _until(lambda: (ctl.store.get(job) or {}).get("state") == "COMPLETED")
        requeue(ctl, str(job), who)  # ended: taken back, its COMPLETED run kept as an attempt
        _until(lambda: (ctl.store.get(job) or {}).get("state") == "COMPLETED")
    finally:
        ctl.stop()
    row = ctl.store.get(job) or {}
    runs = attempts_of(ctl.store, [job])[job]
    assert [(a["state"], a["restarts"], a["charged"]) for a in runs] == [("REQUEUED", 0, True), ("REQUEUED", 1, True)]
    assert "after it ended COMPLETED" in runs[1]["cause"] and runs[1]["exit_code"] == 0
    assert runs[0]["end_time"] <= runs[1]["start_time"] <= runs[1]["end_time"] <= row["start_time"]
    assert row["restarts"] == 2 and row["end_time"] - row["start_time"] < runs[1]["end_time"] - runs[0]["start_time"]
    spent = sum((r["end_time"] - r["start_time"]) * r["alloc_cpus"] for r in [*runs, row])
    now = time.time()
    live_users, live_accounts = ctl.sched.ledger.usage(now), ctl.accounts.usage(now)
    assert live_users[user] == pytest.approx(spent, rel=0.05)  # the running controller charged every run
    assert live_accounts["physics"] == pytest.approx(spent, rel=0.05)
    again = _controller(tmp_path)  # recharged from the records: every run, each once
    assert again.sched.ledger.usage(now)[user] == pytest.approx(live_users[user], rel=0.01)
    assert again.accounts.usage(now)["physics"] == pytest.approx(live_accounts["physics"], rel=0.01)


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
