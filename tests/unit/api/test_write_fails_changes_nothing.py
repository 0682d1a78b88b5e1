"""QA: `hal update`, `hal hold` and `hal release` changed the running scheduler before their records were committed,
so a commit that failed (503 "nothing recorded", or a 500 for a value the database refused) still changed the
job: a held job released anyway and started with no release event, a lowered time limit killed a job whose
record kept the old one. An error now means nothing changed (as scontrol's); once the store takes writes the
same call works."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"
Hal = tuple[Any, TestClient, Any, pytest.MonkeyPatch, Path]


@pytest.fixture
def hal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hal]:
    """The API in process (no controller thread: cycles turn only when a test runs one) with the dev executor."""
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=EXAMPLE))
    token = (tmp_path / "home" / "token").read_text().strip()
    try:
        with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}) as http:
            yield ctl, http, executor, monkeypatch, tmp_path
    finally:
        executor.shutdown()
        store.close()


def submit(hal: Hal, **options: Any) -> int:
    _ctl, http, _executor, _mp, tmp = hal
    body = {"script": "#!/bin/sh\nsleep 60\n", "options": {"time": "10", **options}, "workdir": str(tmp)}
    resp = http.post("/v1/jobs", json=body)
    assert resp.status_code == 201, resp.text
    return int(resp.json()["job_id"])


def store_down(hal: Hal) -> None:
    def down(*_args: Any, **_kw: Any) -> None:
        raise OperationalError("UPDATE jobs", {}, sqlite3.OperationalError("database is locked"))

    hal[3].setattr(hal[0].store, "update_job", down)


def refused(hal: Hal, path: str, **body: Any) -> None:
    resp = hal[1].post(path, json=body or None)
    assert resp.status_code == 503, resp.text
    assert resp.json()["detail"].startswith("database unavailable, nothing recorded")


def ok(hal: Hal, path: str, **body: Any) -> Any:
    resp = hal[1].post(path, json=body or None)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_an_update_whose_commit_fails_leaves_a_pending_job_as_it_was(hal: Hal) -> None:
    ctl, _http, executor, monkeypatch, _tmp = hal
    job = submit(hal, hold=True)
    lv = ctl.live[job]
    store_down(hal)
    refused(hal, f"/v1/jobs/{job}/update", fields={"TimeLimit": "1", "JobName": "new"})  # QA repro A, on a held job
    assert lv.request.time_limit == 600 and lv.spec.time_limit == 600 and lv.request.name != "new"
    assert ctl.sched.held[job].spec.time_limit == 600 and ctl.sched.held[job].spec.held  # still held in the engine
    monkeypatch.undo()
    ok(hal, f"/v1/jobs/{job}/release")
    ctl.run_cycle()
    assert lv.state == "RUNNING" and ctl.sched.running[job].item.spec.time_limit == 600
    assert executor._procs[job][1].time_limit == 600  # QA: it was killed at 60 s, its record saying 600


def test_an_update_whose_commit_fails_leaves_a_running_job_as_it_was(hal: Hal) -> None:
    ctl, _http, executor, monkeypatch, _tmp = hal
    job = submit(hal)
    lv = ctl.live[job]
    ctl.run_cycle()
    assert lv.state == "RUNNING"
    act = ctl.sched.running[job]
    end, item = act.predicted_end, act.item
    store_down(hal)  # QA repro B: a running job's lowered limit that was not recorded killed it at 60 s
    refused(hal, f"/v1/jobs/{job}/update", fields={"TimeLimit": "1"})
    assert lv.request.time_limit == 600 and lv.spec.time_limit == 600
    assert act.predicted_end == end and act.item is item and executor._procs[job][1].time_limit == 600
    monkeypatch.undo()
    assert ok(hal, f"/v1/jobs/{job}/update", fields={"TimeLimit": "1"}) == {
        "updated": [job],
        "notes": [],
    }  # works once up
    assert lv.request.time_limit == 60 and lv.spec.time_limit == 60 and executor._procs[job][1].time_limit == 60
    assert act.predicted_end <= act.start + 60 and ctl.store.get(job)["time_limit"] == 60


def test_a_release_whose_commit_fails_does_not_start_the_job(hal: Hal) -> None:
    ctl, _http, _executor, monkeypatch, _tmp = hal
    job = submit(hal, hold=True)
    lv = ctl.live[job]
    store_down(hal)
    refused(hal, f"/v1/jobs/{job}/release")
    assert lv.request.hold and lv.spec.held and ctl.sched.held[job].spec.held
    monkeypatch.undo()
    ctl.run_cycle()
    assert lv.state == "PENDING" and job not in ctl.sched.running  # QA: it started, RUNNING with no release event
    assert ok(hal, f"/v1/jobs/{job}/release") == {"released": [job]}
    ctl.run_cycle()
    assert lv.state == "RUNNING"


def test_a_hold_whose_commit_fails_keeps_the_job_and_its_array_slot(hal: Hal) -> None:
    ctl, _http, _executor, monkeypatch, _tmp = hal
    array = submit(hal, array="0-2%1", begin="now+1hour")
    tasks = sorted(j for j, o in ctl.live.items() if o.array_job_id == array)
    gate = ctl.gates[array]
    assert gate.inflight == 1 and ctl.gated == set(tasks[1:]) and list(gate.waiting) == tasks[1:]
    store_down(hal)
    refused(hal, f"/v1/jobs/{array}_0/hold")
    lv = ctl.live[tasks[0]]
    item = ctl.sched.held.get(tasks[0]) or ctl.sched.queue.get(tasks[0])  # waiting for its begin time, not held
    assert not lv.request.hold and not lv.spec.held and item is not None and not item.spec.held
    assert gate.inflight == 1 and ctl.gated == set(tasks[1:]) and list(gate.waiting) == tasks[1:]  # its slot kept
    monkeypatch.undo()
    assert ok(hal, f"/v1/jobs/{array}_0/hold") == {"held": [tasks[0]]}
    assert lv.spec.held and tasks[1] in ctl.sched.known and ctl.gated == {tasks[0], tasks[2]}  # the slot passed on
