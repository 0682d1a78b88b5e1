"""QA: an unexpected error answered 500 with a plain-text "Internal Server Error" that a JSON client could not
read; it answers JSON naming the exception's type, and the traceback is in the server's log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.controller.auth import create_token

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_an_unexpected_error_answers_json_and_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    headers = {"Authorization": f"Bearer {create_token(store, 'carol')}"}

    def broken(*_args: Any, **_kw: Any) -> None:
        raise KeyError("no such column")

    try:
        with TestClient(app) as client:  # raises what the app lets through: nothing may
            monkeypatch.setattr(store, "query", broken)
            with caplog.at_level(logging.ERROR, logger="hal.api"):
                resp = client.get("/v1/jobs", headers=headers)
            assert resp.status_code == 500
            assert resp.headers["content-type"] == "application/json"
            assert resp.json() == {"detail": "internal error: KeyError; see the server log"}
            logged = [r for r in caplog.records if r.name == "hal.api"]
            assert [r.getMessage() for r in logged] == ["internal error answering GET /v1/jobs"]
            assert logged[0].exc_info is not None and logged[0].exc_info[0] is KeyError  # the traceback
            monkeypatch.undo()
            assert client.get("/v1/jobs", headers=headers).json() == {"jobs": []}  # the next call as before
            assert client.get("/v1/jobs/1", headers=headers).status_code == 404  # handled errors as before
    finally:
        executor.shutdown()
        store.close()
