"""One server per database: a second server on another HAL_HOME but the same database recovered the first one's
jobs and ran their scripts again (QA). As Slurm allows one primary controller per state save, a server holds its
database for its lifetime: a PostgreSQL session-level advisory lock on a connection of its own, or a flock on
"<file>.lock" beside a SQLite file. Either goes with the process however it ends (the kernel closes the file and
the socket; PostgreSQL ends the session and its locks). A PostgreSQL session can also end under a live server (a
database restart, an idle-session timeout, pg_terminate_backend): `LockWatch` takes the lock again, or stops the
server when another one took it meanwhile."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from hal.controller.private import open_private
from hal.controller.store import make_engine

LOCK_CLASS = 0x48414C00  # "HAL\0": the first key of the advisory lock, the second is the schema's hash
# Advisory locks are per database already; the schema keeps servers on separate schemas of one database apart.
KEY = "hashtext(coalesce(current_schema(), ''))"
WATCH_S = 5.0  # how often a server checks it still holds its PostgreSQL database
log = logging.getLogger("hal.server")


class DatabaseLock:
    """What holds the database: a lock file, or a connection (and its engine) with the advisory lock."""

    def __init__(self, handle: IO[Any] | None = None, conn: Connection | None = None, engine: Engine | None = None):
        self.handle = handle
        self.conn = conn
        self.engine = engine

    def recheck(self) -> bool:
        """False only when this server's lock is known to be gone to another server. A dropped session (the
        database restarted, an idle-session timeout, an administrator's pg_terminate_backend) took the lock with
        it: take it again on a new connection. A database that does not answer is not a loss: no other server
        can use it either, and the next check tries again."""
        if self.conn is None or self.engine is None:
            return True  # a lock file goes only with the process
        try:
            self.conn.execute(sa.text("SELECT 1"))
            return True
        except DBAPIError:
            with contextlib.suppress(DBAPIError):
                self.conn.close()
        try:
            conn, got = _take(self.engine)
        except DBAPIError:
            return True
        if got:
            self.conn = conn
            log.warning("the database lock's session had ended; this server holds the database again")
            return True
        conn.close()
        return False

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.conn is not None:
            self.conn.close()  # NullPool: the session ends, and its advisory lock with it
        if self.engine is not None:
            self.engine.dispose()


APP_NAME = "hal server: "  # the lock's session is named so, for the server that finds the database held


def whoami() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def lock_database(url: str, home: Path) -> DatabaseLock:
    """Hold the database at ``url`` or refuse with ValueError naming it and, when known, the server holding it.
    Databases other than SQLite and PostgreSQL are not locked."""
    if url.startswith("sqlite"):
        return _lock_sqlite(url, home)
    probe = make_engine(url)  # the URL as the store reads it (postgres:// and postgresql:// take psycopg)
    probe.dispose()
    if probe.dialect.name != "postgresql":
        return DatabaseLock()
    return _lock_postgresql(probe.url, _shown(url))


def _shown(url: str) -> str:
    """The URL as given, its password as ***."""
    return sa.make_url(url).render_as_string(hide_password=True)


def _refused(holder: str, database: str) -> ValueError:
    by = f" ({holder})" if holder else ""
    return ValueError(
        f"another HAL server{by} already runs on the database {database}; two would run the same jobs twice: "
        "stop it, or give this one another --database"
    )


def _lock_sqlite(url: str, home: Path) -> DatabaseLock:
    database = sa.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return DatabaseLock()
    path = Path(database).resolve()
    handle = open_private(path.with_name(path.name + ".lock"), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip()
        handle.close()
        raise _refused(owner, str(path)) from None
    handle.truncate(0)
    handle.write(f"{whoami()}, home {home}\n")
    handle.flush()
    return DatabaseLock(handle=handle)


def _take(engine: Engine) -> tuple[Connection, bool]:
    """A new session, named for this server, and whether it got the lock."""
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")  # never idle in a transaction
    try:
        name = (APP_NAME + whoami())[:63]  # PostgreSQL keeps 63 bytes of an application_name
        conn.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": name})
        got = conn.execute(sa.text(f"SELECT pg_try_advisory_lock(:cls, {KEY})"), {"cls": LOCK_CLASS}).scalar()
    except BaseException:
        conn.close()
        raise
    return conn, bool(got)


def _lock_postgresql(url: sa.URL, shown: str) -> DatabaseLock:
    engine = sa.create_engine(url, poolclass=NullPool)  # closing the connection ends the session
    try:
        conn, got = _take(engine)
    except BaseException:
        engine.dispose()
        raise
    try:
        if got:
            return DatabaseLock(conn=conn, engine=engine)
        holder = conn.execute(
            sa.text(
                "SELECT a.application_name, host(a.client_addr) FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                f"AND l.classid::bigint = :cls AND l.objid::bigint = ({KEY}::bigint & 4294967295)"
            ),
            {"cls": LOCK_CLASS},
        ).first()
    except BaseException:
        conn.close()
        engine.dispose()
        raise
    conn.close()
    engine.dispose()
    owner = ""
    if holder is not None:  # pg_stat_activity hides another role's sessions from a role without pg_read_all_stats
        owner = str(holder[0] or "").removeprefix(APP_NAME)
        owner += f", connected from {holder[1]}" if holder[1] else ""
    raise _refused(owner.strip(", "), shown)


class LockWatch:
    """Re-checks a PostgreSQL lock every few seconds; ``lost`` is called once, from the watch's thread, when
    another server holds the database now (two servers would run the same jobs twice, so this one must stop)."""

    def __init__(self, lock: DatabaseLock, lost: Callable[[], None], every: float = WATCH_S) -> None:
        self.lock, self.lost, self.every = lock, lost, every
        self.gone = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.lock.conn is None:
            return  # nothing to watch: a lock file, or a database HAL does not lock
        self._thread = threading.Thread(target=self._run, name="hal-db-lock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.every)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if not self.lock.recheck():
                self.gone = True
                log.error("another HAL server holds this server's database now; stopping this one")
                self.lost()
                return
