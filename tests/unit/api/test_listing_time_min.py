"""Job listings carry --time-min (time_min) for squeue -O TimeMin: only the detail view had it, so `hal queue -O
TimeMin` had nothing to show. Read from the stored request without parsing it (scripts and environments)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.api.views import stored_time_min

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_listings_carry_the_time_min(tmp_path: Path) -> None:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    asks: dict[str, dict[str, str]] = {
        "min": {"time": "1:00:00", "time-min": "30"},
        "none": {"time": "10"},
        "array": {"time": "20", "time-min": "5", "array": "0-1"},
    }
    try:
        with TestClient(app) as client:
            ids = {}
            for name, options in asks.items():
                script = "#!/bin/sh\necho '\"time_min\":99'\n"  # a quote in a string is escaped: not the field
                body = {"script": script, "options": {**options, "hold": True}, "workdir": str(tmp_path)}
                body["env"] = {"time_min": "7"}  # an environment's key of that name is a string, after the field
                ids[name] = client.post("/v1/jobs", json=body, headers=auth).json()["job_id"]
            recs = client.get("/v1/jobs", headers=auth).json()["jobs"]
            got = {r["job_id"]: r["time_min"] for r in recs}
            assert [got[ids["min"]], got[ids["none"]]] == [1800.0, None]
            assert [r["time_min"] for r in recs if r["array_job_id"] == ids["array"]] == [300.0] * 2
            assert client.get(f"/v1/jobs/{ids['min']}", headers=auth).json()["time_min"] == 1800.0
    finally:
        executor.shutdown()
        store.close()


def test_a_request_stored_with_spaces_or_before_time_min_reads() -> None:
    assert stored_time_min(json.dumps({"time_limit": 60.0, "time_min": 120.0})) == 120.0  # holds.py's json.dumps
    assert stored_time_min(json.dumps({"time_min": None})) is None
    assert stored_time_min('{"script":"x"}') is None and stored_time_min(None) is None  # stored before --time-min
