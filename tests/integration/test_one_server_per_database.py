"""Two servers on one database (another --home, the same --database): the second is refused with one line naming
the database and the server holding it, before it recovers anything (QA: it started, "recovered pending: 738", and
a job's script ran twice). PostgreSQL holds it with an advisory lock, which a killed server's session gives up;
SQLite with a flock on "<file>.lock" beside the database file."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hal.controller.db_lock import KEY, LOCK_CLASS, lock_database
from hal.controller.store import sqlite_url
from tests.integration.livekit import HAL, LiveServer

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A database of this test's own, dropped after it."""
    name = f"hal_dblock_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # no server, no driver, no rights: say so and skip
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (database postgres) not usable: {type(exc).__name__}: {exc}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"  # as QA gave it: libpq's scheme
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def second_start(first: LiveServer, tmp: Path, database: str) -> subprocess.CompletedProcess[str]:
    """`hal server` on another home and the same database; a server that starts is stopped after 20 s."""
    other = tmp / "other-home"
    args = [
        *HAL,
        "server",
        "--port",
        "0",
        "--home",
        str(other),
        "--database",
        database,
        "--cluster",
        str(first.cluster),
    ]
    try:
        return subprocess.run(args, env=first.env, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"a second server started on {database}: {exc.stdout!r} {exc.stderr!r}") from None


def refused(res: subprocess.CompletedProcess[str], database: str) -> str:
    line = " ".join(res.stderr.split())  # rich may wrap the one line at the terminal width
    assert res.returncode != 0, (res.stdout, res.stderr)
    assert "another HAL server" in line and database in line, res.stderr
    assert "recovered" not in res.stderr and "Traceback" not in res.stderr, res.stderr
    return line


def test_a_second_server_on_one_postgresql_database_is_refused(tmp_path: Path, pg_database: str) -> None:
    first = LiveServer(tmp_path / "first", "--database", pg_database)
    first.start()
    try:
        line = refused(second_start(first, tmp_path, pg_database), pg_database)
        assert f"pid {first.proc.pid if first.proc else '?'} " in line, line  # the server that holds it
        assert not (tmp_path / "other-home" / "server.json").exists()
        first.kill()  # SIGKILL: its session ends, and the lock with it
        second = LiveServer(tmp_path / "second", "--database", pg_database)
        second.start()
        second.stop()
    finally:
        first.stop()


def test_a_second_server_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    first = LiveServer(tmp_path / "first", "--database", sqlite_url(shared))
    first.start()
    try:
        line = refused(second_start(first, tmp_path, sqlite_url(shared)), str(shared))
        assert f"pid {first.proc.pid if first.proc else '?'} " in line, line
    finally:
        first.stop()


def lock_session(database: str, pid: int) -> int:
    """The backend pid of the server ``pid``'s lock session (named "hal server: pid N on HOST")."""
    engine = sa.create_engine(database.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT pid FROM pg_stat_activity WHERE application_name LIKE :name"),
                    {"name": f"hal server: pid {pid} on %"},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_a_lock_session_that_ends_is_taken_again(pg_database: str) -> None:
    """A database restart or pg_terminate_backend ends the lock's session and the lock with it: the server
    held nothing while it ran on, and a second server could start (QA, left out before)."""
    held = lock_database(pg_database, Path("."))
    try:
        assert held.conn is not None
        mine = held.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        admin = sa.create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": mine}).scalar_one() is True
        admin.dispose()
        assert held.recheck() is True
        with pytest.raises(ValueError, match="another HAL server"):
            lock_database(pg_database, Path("."))  # held again
    finally:
        held.close()


def test_a_server_whose_database_another_server_took_stops(tmp_path: Path, pg_database: str) -> None:
    first = LiveServer(tmp_path / "first", "--database", pg_database)
    first.start()
    try:
        assert first.proc is not None
        backend = lock_session(pg_database, first.proc.pid)
        admin = sa.create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.connect() as conn:  # end its session and take the lock at once, as another server would
            # waits (up to 5 s) until the session is gone: its lock was still held right after, now and then
            conn.execute(sa.text("SELECT pg_terminate_backend(:p, 5000)"), {"p": backend})
            took = conn.execute(sa.text(f"SELECT pg_try_advisory_lock(:cls, {KEY})"), {"cls": LOCK_CLASS})
            assert took.scalar_one() is True
            code = first.proc.wait(30)  # the watch looks every 5 s
        admin.dispose()
        log = first.log.read_text()
        assert code != 0, log
        assert "another HAL server took this server's database" in " ".join(log.split()), log
        assert "Traceback" not in log, log
    finally:
        first.stop()
