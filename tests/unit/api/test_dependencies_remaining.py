"""squeue %E (QA cli2 #3): each dependency still to be met with its own state, met ones left out, a whole array
as ID_*; GET /v1/jobs?detail=true says so (dependencies_remaining). It marked every dependency from the job's
reason: afterany:80(failed) on a running job, afterok:72_0(failed) on a task that exited 0."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.cli.squeue_request_codes import _dependency
from tests.unit.api.test_pending_std_paths import EXAMPLE, _ended


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The REST app over a real controller, SQLite store and LocalExecutor (its jobs see SLURM_ARRAY_TASK_ID)."""
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="local", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'home' / 'token').read_text().strip()}"}
    ctl.start()
    try:
        with TestClient(app) as client:
            yield client, auth
    finally:
        ctl.stop()
        executor.shutdown()
        store.close()


def _submit(client: TestClient, auth: dict[str, str], script: str, **options: Any) -> str:
    body = {"script": f"#!/bin/sh\n{script}\n", "options": {"time": "5:00", **options}, "workdir": "/tmp"}
    resp = client.post("/v1/jobs", json=body, headers=auth)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["job_id"])


def _running(client: TestClient, auth: dict[str, str], ref: str) -> None:
    for _ in range(600):
        if client.get(f"/v1/jobs/{ref}", headers=auth).json()["state"] == "RUNNING":
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"job {ref} did not start")


def test_each_remaining_dependency_has_its_own_state(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    ended = _submit(client, auth, '[ "$SLURM_ARRAY_TASK_ID" != 2 ]', array="0-3")  # task 2 fails
    for task in range(4):
        _ended(client, auth, f"{ended}_{task}")
    run = _submit(client, auth, "sleep 60")
    runs = _submit(client, auth, "sleep 60", array="0-1")
    _running(client, auth, run)
    cases = {
        f"afterok:{ended}_0,afterok:{run}": f"afterok:{run}(unfulfilled)",  # a met one drops out
        f"afterok:{ended}_0:{ended}_2": f"afterok:{ended}_2(failed)",
        f"afterok:{ended}_2,afterany:{run}": f"afterok:{ended}_2(failed),afterany:{run}(unfulfilled)",
        f"afterok:{ended}": f"afterok:{ended}_*(failed)",
        f"afterany:{runs}": f"afterany:{runs}_*(unfulfilled)",
        f"afternotok:{ended},afterok:{run}": f"afterok:{run}(unfulfilled)",  # every task ended, one failed: met
    }
    jobs = {_submit(client, auth, "true", dependency=dep): shown for dep, shown in cases.items()}
    held = _submit(client, auth, "true", dependency=f"afterany:{ended}", hold=True)  # met, though held
    jobs[held] = "(null)"
    listed = client.get("/v1/jobs", params={"detail": True, "state": "PENDING"}, headers=auth).json()["jobs"]
    got = {str(r["job_id"]): _dependency(r) for r in listed if str(r["job_id"]) in jobs}
    assert got == jobs
    one = client.get(f"/v1/jobs/{held}", headers=auth).json()
    assert one["dependencies_remaining"] == [] and one["dependencies"] == [f"afterany:{ended}"]
    one = client.get(f"/v1/jobs/{list(jobs)[2]}", headers=auth).json()
    assert one["dependencies_remaining"] == [
        {"dependency": f"afterok:{ended}_2", "state": "failed"},
        {"dependency": f"afterany:{run}", "state": "unfulfilled"},
    ]
    for job in (run, runs, *jobs):
        client.post("/v1/jobs/cancel", json={"ref": job}, headers=auth)
