"""`hal token create/list/revoke` in the state folder of a server whose database is not HAL_HOME/hal.db (QA: on
PostgreSQL): they use the database its server.json names. They read and wrote a new, stray hal.db instead: list was
empty, a created token got 401, and revoke found nothing to revoke while the user's token kept working."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.controller.auth import create_token, digest
from hal.controller.store import Store, sqlite_url

from ..pg_schema import pg_schema

PG = "postgresql://postgres@127.0.0.1:5432/test"  # libpq's scheme, as hal server records what it was given


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "elsewhere" / "shared.db")
        return
    with pg_schema(PG) as url:
        yield url


def test_token_commands_use_the_database_in_server_json(tmp_path: Path, database: str) -> None:
    from hal.cli.token import app

    (tmp_path / "elsewhere").mkdir()
    home = tmp_path / "home"
    home.mkdir()
    store = Store(database)
    bob = create_token(store, "bob", admin=False)
    (home / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": 1, "database": database}))
    run = CliRunner().invoke

    listed = run(app, ["list", "--json", "--home", str(home)])
    assert listed.exit_code == 0, listed.output
    assert [t["user"] for t in json.loads(listed.output)["tokens"]] == ["bob"]

    made = run(app, ["create", "--user", "dave", "--home", str(home)])
    assert made.exit_code == 0, made.output
    assert store.token(digest(made.output.strip())) == ("dave", False)  # what the server looks tokens up in

    revoked = run(app, ["revoke", "--user", "bob", "--home", str(home)])
    assert revoked.exit_code == 0 and "revoked 1 token" in revoked.output, revoked.output
    assert store.token(digest(bob)) is None and {r["user"] for r in store.list_tokens()} == {"dave"}
    store.close()
    assert not (home / "hal.db").exists()  # no stray SQLite file beside the server's state
