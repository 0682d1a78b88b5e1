"""The controller's durable state: jobs, transitions, tokens and idempotency keys, in SQLite (WAL) or
PostgreSQL; every write commits before the caller answers anyone."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from hal.controller.partition_filter import in_partitions
from hal.controller.private import create_private

meta = sa.MetaData()
jobs = sa.Table(
    "jobs",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("array_job_id", sa.Integer),
    sa.Column("array_task_id", sa.Integer),
    sa.Column("name", sa.String(256)),
    sa.Column("user", sa.String(64)),
    sa.Column("account", sa.String(64)),
    sa.Column("partition", sa.String(64)),
    sa.Column("qos", sa.String(32)),
    sa.Column("state", sa.String(16)),
    sa.Column("cause", sa.Text),
    sa.Column("submit_time", sa.Float),
    sa.Column("start_time", sa.Float),
    sa.Column("end_time", sa.Float),
    sa.Column("predicted_end", sa.Float),
    sa.Column("time_limit", sa.Float),
    sa.Column("req_nodes", sa.Integer),
    sa.Column("req_tasks", sa.Integer),
    sa.Column("req_cpus", sa.Integer),
    sa.Column("req_mem_mb", sa.Integer),
    sa.Column("req_gpus", sa.Integer),
    sa.Column("alloc_cpus", sa.Integer),
    sa.Column("nodelist", sa.Text),
    sa.Column("alloc", sa.Text),
    sa.Column("exit_code", sa.Integer),
    sa.Column("signal", sa.Integer),
    sa.Column("cpu_seconds", sa.Float),
    sa.Column("max_rss_mb", sa.Float),
    sa.Column("requeue", sa.Boolean),
    sa.Column("restarts", sa.Integer),
    sa.Column("workdir", sa.Text),
    sa.Column("stdout_path", sa.Text),
    sa.Column("stderr_path", sa.Text),
    sa.Column("request", sa.Text),
)
job_events = sa.Table(
    "job_events",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer),
    sa.Column("time", sa.Float),
    sa.Column("state", sa.String(16)),
    sa.Column("cause", sa.Text),
)
job_attempts = sa.Table(  # earlier attempts of requeued jobs (hal/controller/attempts.py)
    "job_attempts",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer),
    sa.Column("restarts", sa.Integer),
    sa.Column("state", sa.String(16)),
    sa.Column("cause", sa.Text),
    sa.Column("account", sa.String(64)),
    sa.Column("partition", sa.String(64)),
    sa.Column("start_time", sa.Float),
    sa.Column("end_time", sa.Float),
    sa.Column("nodelist", sa.Text),
    sa.Column("alloc_cpus", sa.Integer),
    sa.Column("alloc", sa.Text),
    sa.Column("exit_code", sa.Integer),
    sa.Column("signal", sa.Integer),
    sa.Column("cpu_seconds", sa.Float),
    sa.Column("max_rss_mb", sa.Float),
    sa.Column("charged", sa.Boolean),
    sa.Column("time_limit", sa.Float),  # the limit that attempt ran with (a --time-min cut, its --time after)
)
tokens = sa.Table(
    "tokens",
    meta,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("user", sa.String(64)),
    sa.Column("admin", sa.Boolean),
    sa.Column("created", sa.Float),
    sa.Column("label", sa.String(128)),
)
node_states = sa.Table(
    "node_states",
    meta,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("state", sa.String(16)),
    sa.Column("reason", sa.Text),
    sa.Column("user", sa.String(64)),
    sa.Column("time", sa.Float),
)
submissions = sa.Table(
    "submissions",
    meta,
    sa.Column("user", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("first_job_id", sa.Integer),
    sa.Column("count", sa.Integer),
    sa.Column("created", sa.Float),
)

ACTIVE = ("PENDING", "RUNNING")
Row = dict[str, Any]
Event = tuple[int, float, str, str]  # job id, time, state, cause


@dataclass(slots=True)
class _Batch:
    """Job writes gathered on one connection (Store.batched): row changes by job, and events in order."""

    updates: dict[int, Row] = field(default_factory=dict)
    events: list[Row] = field(default_factory=list)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _private_sqlite(url: str) -> None:
    """A database file is 0600 before SQLite opens it (it holds every user's job scripts and environments);
    SQLite gives the -wal and -shm files it creates the same mode, and ones an older server left are tightened."""
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    create_private(path)
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if extra.exists():
            create_private(extra)


def make_engine(url: str) -> Engine:
    """SQLite gets WAL (readers never block the writer; a killed process loses no committed row)."""
    for scheme in ("postgresql://", "postgres://"):  # libpq and psql take both; SQLAlchemy only the first
        if url.startswith(scheme):
            url = "postgresql+psycopg://" + url[len(scheme) :]
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)
    _private_sqlite(url)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def migrate(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """Typed access to the tables; callers group writes into one transaction with ``write()``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._batches: dict[Connection, _Batch] = {}
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # ---- nodes an administrator took out of service ---------------------------------------------
    def drained(self) -> dict[str, Row]:
        with self.engine.connect() as conn:
            return {r["name"]: dict(r) for r in conn.execute(sa.select(node_states)).mappings()}

    def set_drained(self, conn: Connection, name: str, row: Row | None) -> None:
        """Record a drain (``row``: state, reason, user, time) or, with None, its end."""
        conn.execute(node_states.delete().where(node_states.c.name == name))
        if row is not None:
            conn.execute(node_states.insert().values(name=name, **row))

    # ---- jobs -----------------------------------------------------------------------------------
    def insert_jobs(self, conn: Connection, rows: Sequence[Row], now: float, cause: str) -> None:
        conn.execute(jobs.insert(), list(rows))
        self.add_events(conn, [(r["id"], now, r["state"], cause) for r in rows])

    def update_job(self, conn: Connection, job_id: int, values: Row, event: Event | None = None) -> None:
        batch = self._batches.get(conn)
        if batch is None:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))
        else:
            if job_id in batch.updates:  # its second change in the batch: the first is written first
                self._flush(conn, batch)
            batch.updates[job_id] = values
        if event is not None:
            self.add_events(conn, [event])

    def add_events(self, conn: Connection, events: Iterable[Event]) -> None:
        batch = self._batches.get(conn)
        rows = [{"job_id": j, "time": t, "state": s, "cause": c} for j, t, s, c in events]
        if batch is not None:
            batch.events.extend(rows)
        elif rows:
            conn.execute(job_events.insert(), rows)

    @contextmanager
    def batched(self, conn: Connection) -> Iterator[None]:
        """Inside it, ``update_job`` and ``add_events`` on ``conn`` are gathered and written at its end, one
        statement for each set of columns changed: an array-wide cancel, hold or update (10,000 tasks) made two
        statements a task under the controller's lock. Nothing may read those rows through ``conn`` inside it."""
        if conn in self._batches:
            yield  # nested: the outer one writes
            return
        batch = self._batches[conn] = _Batch()
        try:
            yield
            self._flush(conn, batch)
        finally:
            del self._batches[conn]  # an error: nothing written, and the transaction rolls back

    def _flush(self, conn: Connection, batch: _Batch) -> None:
        groups: dict[tuple[str, ...], list[Row]] = {}
        for job_id, values in batch.updates.items():
            groups.setdefault(tuple(values), []).append({"_job_id": job_id, **values})
        for params in groups.values():
            conn.execute(jobs.update().where(jobs.c.id == sa.bindparam("_job_id")), params)
        if batch.events:
            conn.execute(job_events.insert(), batch.events)
        batch.updates, batch.events = {}, []

    def max_job_id(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(jobs.c.id))).scalar()
        return int(value or 0)

    def get(self, job_id: int) -> Row | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return dict(row) if row is not None else None

    def states(self, job_ids: Sequence[int]) -> dict[int, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs.c.id, jobs.c.state).where(jobs.c.id.in_(list(job_ids)))).all()
        return {int(r[0]): str(r[1]) for r in rows}

    def array_tasks(self, array_job_id: int) -> list[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id).where(jobs.c.array_job_id == array_job_id).order_by(jobs.c.id)
            ).all()
        return [int(r[0]) for r in rows]

    def array_task(self, array_job_id: int, task: int) -> int | None:
        q = sa.select(jobs.c.id).where(jobs.c.array_job_id == array_job_id, jobs.c.array_task_id == task)
        with self.engine.connect() as conn:
            got = conn.execute(q).scalar()
            return int(got) if got is not None else None

    def active(self) -> list[Row]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.state.in_(ACTIVE)).order_by(jobs.c.id)).mappings()
            return [dict(r) for r in rows]

    def query(
        self,
        user: str | Sequence[str] | None = None,
        states: Sequence[str] | None = None,
        partition: str | Sequence[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        job_ids: Sequence[int] | None = None,
        limit: int = 10_000,
        after: int | None = None,
    ) -> list[Row]:
        """Jobs in id order, at most ``limit``; ``after`` (an id) pages on from where the last page ended; a
        user or partition may be a list of them (squeue -u a,b)."""
        q = sa.select(jobs)
        if after is not None:
            q = q.where(jobs.c.id > after)
        if user is not None:
            q = q.where(jobs.c.user == user if isinstance(user, str) else jobs.c.user.in_(list(user)))
        if states:
            q = q.where(jobs.c.state.in_(list(states)))
        if partition:
            q = q.where(in_partitions(jobs.c.partition, partition))  # a pending job's list holds any
        if since is not None:
            q = q.where(sa.or_(jobs.c.end_time >= since, jobs.c.end_time.is_(None)))
        if until is not None:
            q = q.where(jobs.c.submit_time <= until)
        if job_ids is not None:
            q = q.where(sa.or_(jobs.c.id.in_(list(job_ids)), jobs.c.array_job_id.in_(list(job_ids))))
        q = q.order_by(jobs.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def events_of(self, job_id: int) -> list[Row]:
        q = sa.select(job_events).where(job_events.c.job_id == job_id).order_by(job_events.c.id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def usage_rows(self) -> list[Row]:
        """Ended jobs that ran, and the charged earlier attempts of requeued jobs (their rows hold only the last
        one), in end order: what fair share charges after a restart, each attempt once."""
        amounts = (jobs.c.req_mem_mb, jobs.c.req_gpus)  # billing_weights may weigh them (engine/billing.py)
        ended = sa.select(
            jobs.c.user, jobs.c.account, jobs.c.start_time, jobs.c.end_time, jobs.c.alloc_cpus, jobs.c.alloc, *amounts
        ).where(jobs.c.start_time.is_not(None), jobs.c.end_time.is_not(None))
        a = job_attempts.c
        earlier = (
            sa.select(jobs.c.user, a.account, a.start_time, a.end_time, a.alloc_cpus, a.alloc, *amounts)
            .join_from(job_attempts, jobs, jobs.c.id == a.job_id)
            .where(a.charged.is_(True))
        )
        q = sa.union_all(ended, earlier).subquery()
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(q).order_by(q.c.end_time)).mappings()]

    def recent_runs(self, user: str, name: str, limit: int = 20, states: tuple[str, ...] = ("COMPLETED",)) -> list[Row]:
        """The user's last jobs of this name that ran and ended in one of ``states``, latest first: how long such
        jobs really take (and, with TIMEOUT among the states, whether some did not fit)."""
        q = (
            sa.select(jobs.c.id, jobs.c.state, jobs.c.start_time, jobs.c.end_time, jobs.c.time_limit)
            .where(jobs.c.user == user, jobs.c.name == name, jobs.c.state.in_(states))
            .where(jobs.c.start_time.is_not(None), jobs.c.end_time.is_not(None))
            .order_by(jobs.c.end_time.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def ran_rows(self, since: float = 0.0) -> list[Row]:
        """Jobs that ran and ended after ``since``, in end order: what a runtime predictor relearns from."""
        q = (
            sa.select(jobs)
            .where(jobs.c.start_time.is_not(None), jobs.c.end_time.is_not(None), jobs.c.end_time > since)
            .order_by(jobs.c.end_time, jobs.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    # ---- idempotency ----------------------------------------------------------------------------
    def find_submission(self, conn: Connection, user: str, key: str) -> tuple[int, int] | None:
        q = sa.select(submissions.c.first_job_id, submissions.c.count).where(
            submissions.c.user == user, submissions.c.key == key
        )
        row = conn.execute(q).first()
        return (int(row[0]), int(row[1])) if row is not None else None

    def add_submission(self, conn: Connection, user: str, key: str, first: int, count: int, now: float) -> None:
        conn.execute(submissions.insert().values(user=user, key=key, first_job_id=first, count=count, created=now))

    # ---- tokens ---------------------------------------------------------------------------------
    def add_token(self, digest: str, user: str, admin: bool, now: float, label: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(tokens.insert().values(digest=digest, user=user, admin=admin, created=now, label=label))

    def token(self, digest: str) -> tuple[str, bool] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(tokens.c.user, tokens.c.admin).where(tokens.c.digest == digest)).first()
        return (str(row[0]), bool(row[1])) if row is not None else None

    def list_tokens(self) -> list[Row]:
        """Every token's digest, user, admin flag, creation time and label (never the token itself)."""
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(tokens).order_by(tokens.c.created))]

    def remove_tokens(self, digests: Sequence[str]) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(tokens.delete().where(tokens.c.digest.in_(list(digests)))).rowcount or 0)

    def has_admin(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(tokens.c.digest).where(tokens.c.admin.is_(True)).limit(1)).first() is not None


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
