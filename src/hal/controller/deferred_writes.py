"""Which database errors are an outage (kept and retried) and the connection a pass's job ends are applied through:
its writes are kept, to run once every end of the pass is applied in memory, so a connection lost halfway through
an end no longer leaves it half applied (its CPUs freed, its dependant started, its row still RUNNING)."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hal.controller.store import job_events

Write = tuple[Any, Any]  # a statement (Core or driver SQL) and its parameters


def outage(exc: BaseException) -> bool:
    """The database could not be reached or took no write (a connection terminated, a server restarting, a locked
    or full SQLite): waiting and retrying records it. Anything else (a constraint violated) fails the same again."""
    if isinstance(exc, sa.exc.PendingRollbackError):  # the connection died earlier in this transaction
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))
    try:
        import psycopg
    except ImportError:  # pragma: no cover - PostgreSQL's driver is optional
        return isinstance(exc, sqlite3.OperationalError)
    return isinstance(exc, (sqlite3.OperationalError, psycopg.OperationalError, psycopg.InterfaceError))


def _is_write(statement: Any) -> bool:
    if isinstance(statement, str):
        return not statement.lstrip().upper().startswith("SELECT")
    if isinstance(statement, sa.TextClause):
        return not statement.text.lstrip().upper().startswith("SELECT")
    return bool(getattr(statement, "is_dml", False))


class DeferredWrites:
    """Stands for the transaction's connection while ends are applied: a write is kept in ``writes`` (its result is
    never read on this path), a read runs at once. None of the ends' writes has run yet when one reads, so a read
    whose connection was lost runs again on a new one and sees the same rows; that transaction then fails at its
    writes, which are kept and run again (event_retry.Replay)."""

    def __init__(self, conn: Connection, engine: Engine) -> None:
        self.conn, self.engine = conn, engine
        self.writes: list[Write] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        if _is_write(statement):
            self.writes.append((statement, parameters))
            return None
        return self._read("execute", statement, parameters, **kw)

    def exec_driver_sql(self, statement: str, parameters: Any = None, **kw: Any) -> Any:
        if _is_write(statement):
            self.writes.append((statement, parameters))
            return None
        return self._read("exec_driver_sql", statement, parameters, **kw)

    def _read(self, how: str, statement: Any, parameters: Any, **kw: Any) -> Any:
        try:
            return getattr(self.conn, how)(statement, parameters, **kw)
        except Exception as exc:
            if not outage(exc):
                raise
        with self.engine.connect() as fresh:  # the result is buffered: it outlives its connection
            result = getattr(fresh, how)(statement, parameters, **kw)
            return result.freeze()()


def run(conn: Connection, writes: list[Write]) -> None:
    """The kept writes, in their order."""
    for statement, params in writes:
        if isinstance(statement, str):
            conn.exec_driver_sql(statement, params)
        else:
            conn.execute(statement, params)


def committed(conn: Connection, writes: list[Write]) -> bool:
    """Whether ``writes`` were committed already (a connection lost at COMMIT leaves it unknown): their first job
    event is in the table. Run again, they would record the end twice (its events, its attempt)."""
    for statement, params in writes:
        if getattr(statement, "table", None) is job_events and getattr(statement, "is_insert", False):
            rows = params if isinstance(params, list) else [params]
            first = rows[0] if rows and isinstance(rows[0], dict) else None
            if first is None:
                return False
            q = sa.select(sa.func.count()).select_from(job_events)
            q = q.where(*(job_events.c[k] == first[k] for k in ("job_id", "time", "state", "cause")))
            return bool(conn.execute(q).scalar())
    return False
