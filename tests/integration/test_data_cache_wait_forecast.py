"""The start forecast of a job waiting for node-cache room (CacheWait): it starts once the jobs pinning the room
end (they wake it), not at its next retry, which the forecast used to show ('starts in 6 s', QA)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hal.api.app import create_app
from hal.api.metrics import Metrics
from hal.controller.auth import Authenticator, create_token
from hal.controller.directives import build_request
from tests.integration.test_data_cache_wait_restart import _start, _stop, _until
from tests.integration.test_data_live import CLUSTER


def _listed(ctl: Any, job: int) -> dict[str, Any]:
    """The job as `hal queue --start` reads it: GET /v1/jobs?start=true."""
    token = create_token(ctl.store, "al", admin=True, label="test")
    with TestClient(create_app(ctl, Authenticator(ctl.store), Metrics(ctl))) as client:
        got = client.get("/v1/jobs", params={"start": "true"}, headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200, got.text
    return next(r for r in got.json()["jobs"] if r["job_id"] == job)


@pytest.mark.parametrize("limit", [None, "10:00"])
def test_a_cache_waits_forecast_is_the_end_of_what_pins_the_room(tmp_path: Path, limit: str | None) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl, staging = _start(tmp_path)
    staging.cache_wait = 5.0  # the retry the forecast showed as the start
    for name in ("first", "second"):
        src = tmp_path / "store" / name
        src.parent.mkdir(exist_ok=True)
        src.write_bytes(name.encode()[:1] * 700_000)
        staging.stager.catalog.register_file(name, str(src))
    node = ctl.table.names[0]
    try:
        pins = {"input-data": "first", "nodelist": node} | ({"time": limit} if limit else {})
        script = f"#!/bin/sh\nwhile [ ! -e {tmp_path / 'go'} ]; do sleep 0.05; done\n"
        (pin,) = ctl.submit(build_request(script, pins, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: (ctl.store.get(pin) or {}).get("state") == "RUNNING" and pin not in staging.staging, "pinned")
        started = float((ctl.store.get(pin) or {})["start_time"])
        wants = {"input-data": "second", "nodelist": node}
        (reader,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", wants, {}, str(tmp_path), 0), "al").job_ids
        waiting = lambda: (ctl.store.get(reader) or {}).get("cause") == "waiting for cache room"  # noqa: E731
        _until(waiting, "the reader never waited for cache room")
        shown = ctl.annotate([ctl.store.get(reader) or {}], start=True)[0]
        assert shown["reason"] == "CacheWait", shown
        if limit is None:  # no limit, no history: when room frees is unknown, and so is its start
            assert shown["predicted_start"] is None and shown["predicted_start_p90"] is None, shown
            assert f"job {pin} has no time limit" in ctl.board.unknown.get(reader, ""), ctl.board.unknown
            listed = _listed(ctl, reader)  # the listing says why too (only GET /v1/jobs/ID did)
            assert f"job {pin} has no time limit" in listed.get("start_unknown", ""), listed
        else:  # not before the pinning job's planned end (its 10-minute limit, as nothing better is known)
            assert shown["predicted_start"] is not None and shown["predicted_start"] >= started + 590, shown
            assert time.time() + 60 < shown["predicted_start"]
        (tmp_path / "go").touch()
        _until(lambda: reader not in ctl.live, "the reader never ran after the room freed")
    finally:
        (tmp_path / "go").touch()
        _stop(ctl, staging)
