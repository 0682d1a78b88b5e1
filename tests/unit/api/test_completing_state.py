"""A job a cancel or requeue is stopping shows COMPLETING (squeue's CG, scontrol's JobState=COMPLETING) from the
moment it was asked until its processes are gone. QA: for the whole grace period of `hal cancel 97` (tasks that trap
SIGTERM) hal queue showed R and hal show JobState=RUNNING. The stored state stays RUNNING: hal history (sacct has
no CG), accounting and fair share read it unchanged."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hal.api.server import ServerOptions, build
from hal.cli.main import build as build_cli
from hal.controller.auth import Identity
from hal.controller.requeue import requeue
from tests.unit.cli.test_queue_submit_qa import T0, FakeClient, job, run
from tests.unit.cli.test_show_std_paths import PENDING

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def _running(client: TestClient, auth: dict[str, str], job_id: int) -> None:
    deadline = time.monotonic() + 30
    while client.get(f"/v1/jobs/{job_id}", headers=auth).json()["state"] != "RUNNING":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)


def test_records_of_jobs_being_stopped_say_so_and_keep_their_stored_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    kill = executor.cancel
    monkeypatch.setattr(executor, "cancel", lambda job_id, grace=10.0: None)  # its tasks trap SIGTERM: still up
    ctl.start()
    try:
        with TestClient(app) as client:
            body = {"wrap": "sleep 60", "options": {}, "workdir": str(tmp_path)}
            jobs = [client.post("/v1/jobs", json=body, headers=auth).json()["job_id"] for _ in range(3)]
            for j in jobs:
                _running(client, auth, j)
            assert client.delete(f"/v1/jobs/{jobs[0]}", headers=auth).status_code == 200
            requeue(ctl, str(jobs[1]), Identity("root", admin=True))
            listed = {r["job_id"]: r for r in client.get("/v1/jobs", headers=auth).json()["jobs"]}
            assert [(listed[j]["state"], listed[j]["completing"]) for j in jobs] == [
                ("RUNNING", True), ("RUNNING", True), ("RUNNING", False),
            ]  # fmt: skip
            one = client.get(f"/v1/jobs/{jobs[0]}", headers=auth).json()
            assert one["state"] == "RUNNING" and one["completing"] is True
            asked = client.get("/v1/jobs", params={"state": "RUNNING"}, headers=auth).json()["jobs"]
            assert sorted(r["job_id"] for r in asked) == jobs  # what hal history -s R asks: unchanged
            params = {"state": "COMPLETING,PENDING"}  # REST takes the state listings show (it answered 400)
            stopping = client.get("/v1/jobs", params=params, headers=auth).json()["jobs"]
            assert sorted(r["job_id"] for r in stopping) == jobs[:2]
            assert store.states(jobs) == dict.fromkeys(jobs, "RUNNING")
            summary = client.get("/v1/queue/summary", headers=auth).json()  # QA: CG counted as running there
            assert (summary["running"], summary["completing"]) == (1, 2)
            metrics = client.get("/metrics", headers=auth).text  # and in /metrics
            assert 'hal_queue_jobs{partition="batch",state="COMPLETING"} 2.0' in metrics, metrics
            assert "hal_running_jobs 1.0" in metrics
            monkeypatch.setattr(executor, "cancel", kill)  # the grace is over: SIGKILL (a cancel wins a requeue)
            for j in jobs:
                client.delete(f"/v1/jobs/{j}", headers=auth)
            deadline = time.monotonic() + 30
            while store.states(jobs) != dict.fromkeys(jobs, "CANCELLED") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert store.states(jobs) == dict.fromkeys(jobs, "CANCELLED")
            done = {
                r["job_id"]: r
                for r in client.get("/v1/jobs", params={"state": "CANCELLED"}, headers=auth).json()["jobs"]
            }
            assert [done[j]["completing"] for j in jobs] == [False] * 3
    finally:
        ctl.stop()
        executor.shutdown()
        store.close()


STOPPING = job(97, "RUNNING", nodelist="vn[000-001]", start_time=T0, elapsed=60.0, req_nodes=2, completing=True)
RUNS = job(98, "RUNNING", nodelist="vn002", start_time=T0, elapsed=30.0, completing=False)
WAITS = job(99)


def _lines(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[str]:
    res = run(monkeypatch, FakeClient([STOPPING, RUNS, WAITS]), "queue", *args)
    assert res.exit_code == 0, res.output
    return list(res.stdout.splitlines())


def test_hal_queue_shows_cg_and_its_state_filters_as_squeue(monkeypatch: pytest.MonkeyPatch) -> None:
    table = [line.split() for line in _lines(monkeypatch)]
    assert [(row[0], row[4]) for row in table[1:]] == [("97", "CG"), ("98", "R"), ("99", "PD")]
    assert table[1][-1] == "vn[000-001]"  # its nodes, as squeue shows a CG job's
    assert _lines(monkeypatch, "-h", "-o", "%i %t %T") == ["97 CG COMPLETING", "98 R RUNNING", "99 PD PENDING"]
    assert _lines(monkeypatch, "-h", "-t", "CG", "-o", "%i") == ["97"]  # squeue -t CG: only the job being stopped
    assert _lines(monkeypatch, "-h", "-t", "completing,pd", "-o", "%i") == ["97", "99"]
    assert _lines(monkeypatch, "-h", "-t", "R", "-o", "%i") == ["98"]  # -t R leaves it out, as squeue
    assert _lines(monkeypatch, "-h", "-t", "all", "-o", "%i") == ["97", "98", "99"]
    fixed = _lines(monkeypatch, "-h", "-O", "JobID:4,StateCompact:3,State:.10")
    assert fixed == ["97  CG COMPLETING", "98  R     RUNNING", "99  PD    PENDING"]
    assert _lines(monkeypatch, "-l", "-h", "-t", "CG")[0].split()[4] == "COMPLETI"  # squeue -l's %.8T cuts it


def test_hal_show_says_jobstate_completing(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = {**PENDING, "state": "RUNNING", "reason": None, "completing": True, "nodelist": "vn000", "start_time": T0}

    class Fake:
        def get(self, job: str, start: bool = False) -> dict[str, Any]:
            return dict(rec)

        def nodes(self) -> dict[str, Any]:
            return {"nodes": []}

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.show.client", client)
    got = CliRunner().invoke(build_cli(["show"]), ["show", "7"])
    assert got.exit_code == 0, got.output
    said = " ".join(got.stdout.split())
    assert "JobState=COMPLETING" in said and "Why=it is being stopped" in said, said
    rec["completing"] = False
    got = CliRunner().invoke(build_cli(["show"]), ["show", "7"])
    assert "JobState=RUNNING" in got.stdout
