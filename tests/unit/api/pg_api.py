"""A real API on SQLite and, when a server answers at 127.0.0.1:5432, on PostgreSQL (a fresh schema each): the
set-up of the tests of what only PostgreSQL refuses (32-bit integers, sized strings, NUL bytes). A test module
imports ``api_fixture`` and ``database_fixture`` and asks for ``api``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.controller.auth import create_token

from ..pg_schema import pg_schema

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"
Api = tuple[TestClient, dict[str, str]]


@pytest.fixture(name="database", params=["sqlite", "postgresql"])
def database_fixture(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (the server's own SQLite file) or a PostgreSQL URL confined to a new schema, dropped after."""
    if request.param == "sqlite":
        yield None
        return
    with pg_schema() as url:
        yield url


@pytest.fixture(name="api")
def api_fixture(tmp_path: Path, database: str | None) -> Iterator[Api]:
    """A client (server errors answered, not raised) and an admin's auth header."""
    _ctl, app, store, executor = build(
        ServerOptions(home=tmp_path / "home", executor="dev", cluster=EXAMPLE, database=database)
    )
    headers = {"Authorization": f"Bearer {create_token(store, 'carol', admin=True)}"}
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, headers
    finally:
        executor.shutdown()
        store.close()
