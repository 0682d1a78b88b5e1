"""A pending job's StdOut/StdErr/StdIn are the paths it will log to (QA LOW: hal show printed `(not started)`,
where scontrol prints the path scripts use to find the log before the job starts)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'home' / 'token').read_text().strip()}"}
    ctl.start()
    try:
        with TestClient(app) as client:
            yield client, auth, tmp_path
    finally:
        ctl.stop()
        executor.shutdown()
        store.close()


def _submit(client: TestClient, auth: dict[str, str], work: Path, **options: Any) -> str:
    body = {"script": "#!/bin/sh\necho hi\n", "options": {"hold": True, **options}, "workdir": str(work)}
    resp = client.post("/v1/jobs", json=body, headers=auth)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["job_id"])


def _ended(client: TestClient, auth: dict[str, str], ref: str) -> dict[str, Any]:
    for _ in range(600):
        rec: dict[str, Any] = client.get(f"/v1/jobs/{ref}", headers=auth).json()
        if rec["state"] not in ("PENDING", "RUNNING", "CONFIGURING", "STAGE_OUT"):
            return rec
        threading.Event().wait(0.05)
    raise AssertionError(f"job {ref} did not end: {rec}")


PATTERNS = [
    {},
    {"output": "o-%j-%x.txt"},
    {"output": "logs/%4j_%u.out", "error": "logs/%x-%%-%5A.err"},
    {"output": "{work}/abs-%j-%J-%s-%t.out", "job-name": "a/b"},
]


@pytest.mark.parametrize("options", PATTERNS)
def test_the_pending_path_is_the_path_it_logs_to(api: Any, options: dict[str, Any]) -> None:
    client, auth, work = api
    (work / "logs").mkdir(exist_ok=True)
    job = _submit(client, auth, work, **{k: v.replace("{work}", str(work)) for k, v in options.items()})
    pending = client.get(f"/v1/jobs/{job}", headers=auth).json()
    assert pending["state"] == "PENDING" and pending["stdout_path"].startswith("/"), pending
    assert pending["stdin_path"] == "/dev/null"
    assert client.post(f"/v1/jobs/{job}/release", headers=auth).status_code == 200
    ran = _ended(client, auth, job)
    assert ran["state"] == "COMPLETED", ran
    assert (pending["stdout_path"], pending["stderr_path"]) == (ran["stdout_path"], ran["stderr_path"])
    assert Path(ran["stdout_path"]).read_text() == "hi\n"


def test_defaults_workdir_and_array_tasks(api: Any) -> None:
    client, auth, work = api
    job = _submit(client, auth, work)
    rec = client.get(f"/v1/jobs/{job}", headers=auth).json()
    assert rec["stdout_path"] == rec["stderr_path"] == f"{work}/slurm-{job}.out"
    array = _submit(client, auth, work, array="2-3", output="%A.%a.%3a.%N.%4N.out", error="e-%x")
    tasks = client.get(f"/v1/jobs/{array}", headers=auth).json()["tasks"]
    assert [t["stdout_path"] for t in tasks] == [f"{work}/{array}.{i}.00{i}.%N.%4N.out" for i in (2, 3)]
    assert [t["stderr_path"] for t in tasks] == [f"{work}/e-hal"] * 2  # no name: %x is what the launch puts
    plain = _submit(client, auth, work, array="5")
    assert client.get(f"/v1/jobs/{plain}_5", headers=auth).json()["stdout_path"] == f"{work}/slurm-{plain}_5.out"
