"""A fresh PostgreSQL schema in database `test` at 127.0.0.1:5432 for one test, dropped after; the test is skipped
with the reason when no server (or driver, or right) lets us make one."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def pg_schema(base: str = PG) -> Iterator[str]:
    """``base`` (its scheme as the code under test is given it) confined to the new schema by its search_path."""
    try:
        engine = sa.create_engine(PG, connect_args={"connect_timeout": 3})
        schema = f"hal_{uuid.uuid4().hex[:12]}"
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # no server, no driver, no rights: say so and skip
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (database test) not usable: {type(exc).__name__}: {exc}")
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
