"""Tokens can be listed and revoked (a stolen admin token could not be taken back), and a running server stops
accepting a revoked one once its short cache lapses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.controller import auth
from hal.controller.auth import Authenticator, create_token
from hal.controller.store import Store, sqlite_url


def test_list_and_revoke_by_id_or_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(sqlite_url(tmp_path / "hal.db"))
    bob = create_token(store, "bob", label="laptop")
    create_token(store, "bob")
    root = create_token(store, "root", admin=True)
    check = Authenticator(store)
    assert check.identify(bob) is not None
    home = ["--home", str(tmp_path)]
    listed = CliRunner().invoke(app, ["token", "list", *home])
    assert listed.exit_code == 0 and "laptop" in listed.output and listed.output.count("bob") == 2
    root_id = next(line.split()[0] for line in listed.output.splitlines() if "root" in line)
    done = CliRunner().invoke(app, ["token", "revoke", "--user", "bob", *home])
    assert done.exit_code == 0 and "revoked 2 token(s)" in done.output
    monkeypatch.setattr(auth, "CACHE_SECONDS", 0.0)  # the cached answer lapses (30 s in a server)
    assert check.identify(bob) is None and check.identify(root) is not None
    done = CliRunner().invoke(app, ["token", "revoke", root_id, *home])
    assert done.exit_code == 0 and check.identify(root) is None
    for args, message in [([], "give a token id"), (["zzzzzzzz"], "no token matches")]:
        bad = CliRunner().invoke(app, ["token", "revoke", *args, *home])
        assert bad.exit_code != 0 and message in " ".join(bad.output.split())
    store.close()
