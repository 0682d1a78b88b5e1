"""A cycle's starts whose records cannot be committed (the database locked or unreachable at that moment) are
taken back: the engine had them running on their nodes while the store still said PENDING, so they were never
launched and held their nodes until a restart (controller/unstart.py). Once the store takes writes they start."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_a_start_the_store_refused_is_pending_again_and_runs_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'home' / 'token').read_text().strip()}"}
    body = {"script": "#!/bin/sh\necho ran > out\n", "options": {"ntasks": "2"}, "workdir": str(tmp_path)}

    def down(*_args: Any, **_kw: Any) -> None:
        raise OperationalError("UPDATE jobs", {}, sqlite3.OperationalError("database is locked"))

    try:
        with TestClient(app) as client:
            job = int(client.post("/v1/jobs", json=body, headers=auth).json()["job_id"])
            with ctl.lock:
                monkeypatch.setattr(store, "update_job", down)
                with pytest.raises(OperationalError):
                    ctl.run_cycle()
                monkeypatch.undo()
                assert job not in ctl.sched.running and ctl.sched.queue.get(job) is not None
                assert ctl.live[job].state == "PENDING" and not ctl.machine.holdings.get(job)
                assert (ctl.sched.book.free == ctl.sched.book.table.capacity).all()  # its CPUs are free again
                ctl.run_cycle()
            assert ctl.live[job].state == "RUNNING"
            deadline = time.monotonic() + 30
            while not (tmp_path / "out").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert (tmp_path / "out").read_text() == "ran\n"
    finally:
        executor.shutdown()
        store.close()
