"""QA: while the database was unreachable every call answered 500 "Internal Server Error", as if HAL had a bug;
it answers 503 and says the database is unavailable and nothing was recorded, so a client knows to retry."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from hal.api.server import ServerOptions, build
from hal.controller.auth import create_token

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_calls_in_a_database_outage_answer_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    headers = {"Authorization": f"Bearer {create_token(store, 'carol')}"}

    def down(*_args: Any, **_kw: Any) -> None:
        raise OperationalError("INSERT INTO jobs", {}, sqlite3.OperationalError("database is locked"))

    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            monkeypatch.setattr(store, "insert_jobs", down)
            monkeypatch.setattr(store, "query", down)
            job = {"script": "#!/bin/sh\ntrue\n", "workdir": str(tmp_path)}
            for resp in (client.post("/v1/jobs", json=job, headers=headers), client.get("/v1/jobs", headers=headers)):
                assert resp.status_code == 503, resp.text
                assert resp.json()["detail"] == "database unavailable, nothing recorded: database is locked"
            monkeypatch.undo()
            assert client.post("/v1/jobs", json=job, headers=headers).status_code == 201  # and back once it is
        assert ctl.next_id == 2  # the refused submission took no id
    finally:
        executor.shutdown()
        store.close()
