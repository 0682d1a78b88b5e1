"""The store against real databases: SQLite in WAL mode, and PostgreSQL when a server answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hal.controller.auth import Authenticator, create_token, digest
from hal.controller.directives import build_request
from hal.controller.jobs import new_row, request_json
from hal.controller.store import Store, sqlite_url

from ..pg_schema import pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store(sqlite_url(tmp_path / "hal.db"))
        yield s
        s.close()
        return
    with pg_schema() as url:
        s = Store(url)
        yield s
        s.close()


def _rows(first: int, n: int) -> list[dict[str, object]]:
    req = build_request("#!/bin/sh\necho 日本\n", {"job-name": "ünï"}, {}, "/tmp", 0.0)
    stored = request_json(req, [])
    return [new_row(first + i, req, "alice", 1.0, (first, i) if n > 1 else None, stored) for i in range(n)]


def test_jobs_events_and_queries(store: Store) -> None:
    with store.engine.begin() as conn:
        store.insert_jobs(conn, _rows(1, 3), 1.0, "submitted")
        store.add_submission(conn, "alice", "key-1", 1, 3, 1.0)
    with store.engine.begin() as conn:
        store.update_job(conn, 2, {"state": "RUNNING", "start_time": 2.0}, (2, 2.0, "RUNNING", "started"))
    assert store.max_job_id() == 3
    assert [r["id"] for r in store.active()] == [1, 2, 3]
    assert [r["id"] for r in store.query(states=["RUNNING"])] == [2]
    assert store.query(user="bob") == []
    assert [r["id"] for r in store.query(limit=2)] == [1, 2]  # pages: `hal history --swf` reads them all
    assert [r["id"] for r in store.query(limit=2, after=2)] == [3]
    assert store.array_tasks(1) == [1, 2, 3]
    assert store.get(1)["name"] == "ünï"  # type: ignore[index]
    assert [e["state"] for e in store.events_of(2)] == ["PENDING", "RUNNING"]
    with store.engine.connect() as conn:
        assert store.find_submission(conn, "alice", "key-1") == (1, 3)
        assert store.find_submission(conn, "bob", "key-1") is None


def test_tokens_are_stored_hashed(store: Store) -> None:
    token = create_token(store, "alice", admin=True)
    with store.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(sa.text("SELECT digest FROM tokens"))]
    assert stored == [digest(token)] and token not in stored
    who = Authenticator(store).identify(token)
    assert who is not None and (who.user, who.admin) == ("alice", True)
    assert Authenticator(store).identify(token + "x") is None
    assert store.has_admin()
    with pytest.raises(ValueError):
        create_token(store, "bad user!")


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    s = Store(sqlite_url(tmp_path / "hal.db"))
    with s.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    s.close()
    Store(sqlite_url(tmp_path / "hal.db")).close()  # migrations are idempotent on restart


def test_an_upgrade_scrubs_tokens_stored_with_jobs(tmp_path: Path) -> None:
    """Submissions kept the client's HAL_TOKEN in the job's stored environment (plain text, QA)."""
    from alembic import command
    from alembic.config import Config

    from hal.controller import store as store_module

    url = sqlite_url(tmp_path / "old.db")
    engine = store_module.make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store_module.__file__).parent / "migrations"))
    with engine.begin() as conn:  # a database as the previous release left it
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    req = build_request("#!/bin/sh\ntrue\n", {}, {"HAL_TOKEN": "secret-token", "HOME": "/h"}, "/tmp", 0.0)
    row = new_row(1, req, "alice", 1.0, None, request_json(req, []))
    with engine.begin() as conn:
        conn.execute(store_module.jobs.insert(), [row])
    engine.dispose()
    s = Store(url)  # upgrades to head
    stored = (s.get(1) or {})["request"]
    s.close()
    assert "secret-token" not in stored and '"HOME": "/h"' in stored.replace('":"', '": "')


def test_postgres_urls_in_libpq_form_are_taken() -> None:
    """QA: `--database postgres://...` (libpq's and psql's spelling) failed: "Can't load plugin ... postgres"."""
    from hal.controller.store import make_engine

    for url in ("postgres://127.0.0.1:1/x", "postgresql://127.0.0.1:1/x"):
        assert make_engine(url).url.drivername == "postgresql+psycopg"  # no connection is made
