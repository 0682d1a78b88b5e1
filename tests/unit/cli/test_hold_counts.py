"""`hal hold` / `hal release` on an array count its tasks and name only those they changed (QA: with task 2 held,
`hal release A` said "released 1 job(s) of A: A_[0-3]", and `hal hold A` "held 1 job(s) of A: A_[0-3]")."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hal.api.server import ServerOptions, build
from hal.cli.main import build as cli
from hal.client import Client

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture
def hal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    """The real API in process, and `hal hold` / `hal release` talking to it; an array 0-3 that waits an hour."""
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    token = (tmp_path / "token").read_text().strip()
    body = {"script": "#!/bin/sh\ntrue\n", "options": {"array": "0-3", "begin": "now+1hour"}, "workdir": str(tmp_path)}
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as http:

        @contextlib.contextmanager
        def client() -> Iterator[Client]:
            c = Client("http://testserver", token=token)
            c._http = http
            yield c

        monkeypatch.setattr("hal.cli.hold.client", client)
        yield http, str(http.post("/v1/jobs", json=body).json()["job_id"])
    executor.shutdown()
    store.close()


def said(*args: str) -> str:
    got = CliRunner().invoke(cli(["hold", "release"]), list(args))
    assert got.exit_code == 0, got.output
    return " ".join(got.stdout.split())


def test_an_array_hold_and_release_name_the_tasks_they_changed(hal: tuple[TestClient, str]) -> None:
    http, a = hal
    ids = {t["array_task_id"]: t["job_id"] for t in http.get(f"/v1/jobs/{a}").json()["tasks"]}
    assert said("hold", f"{a}_2") == f"held job {a}_2"
    assert http.post(f"/v1/jobs/{a}/release").json() == {"released": [ids[2]]}  # the API names the one it changed
    assert http.post(f"/v1/jobs/{a}/release").json() == {"released": []}  # none held: nothing changed
    said("hold", f"{a}_2")
    assert said("release", a) == f"released 1 job(s) of {a}: {a}_2"
    assert said("hold", a) == f"held 4 job(s) of {a}: {a}_[0-3]"
    assert said("hold", a) == f"held no job of {a}: already held"
    assert said("release", f"{a}_1") == f"released job {a}_1"
    assert said("hold", a) == f"held 1 job(s) of {a}: {a}_1"
    tasks = http.get(f"/v1/jobs/{a}").json()["tasks"]
    assert [t["reason"] for t in tasks] == ["JobHeldAdmin"] * 4  # an administrator: an operator hold
