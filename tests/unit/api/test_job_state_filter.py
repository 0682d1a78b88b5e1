"""GET /v1/jobs?state=: an unknown state is a 400 naming the valid ones (QA: 200 and an empty list, while the CLI
refuses the same name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    with TestClient(app) as client:
        yield client, auth
    executor.shutdown()
    store.close()


def test_an_unknown_state_is_refused_naming_the_valid_ones(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    body = {"wrap": "sleep 60", "options": {"hold": True}, "workdir": "/tmp"}
    job = client.post("/v1/jobs", json=body, headers=auth).json()["job_id"]
    for bad in ("bogus", "PENDING,bogus", "PD"):
        resp = client.get("/v1/jobs", params={"state": bad}, headers=auth)
        assert resp.status_code == 400, resp.text
        said = resp.json()["detail"]
        assert said.startswith(f"unknown job state {bad.split(',')[-1].upper()!r}; valid states: PENDING, RUNNING")
        assert "COMPLETED" in said and "CONFIGURING" in said
    listed = client.get("/v1/jobs", params={"state": "pending, running"}, headers=auth)
    assert listed.status_code == 200 and [j["job_id"] for j in listed.json()["jobs"]] == [job]
    for other in ("CONFIGURING", "REQUEUED", "COMPLETED"):  # names the CLI sends: accepted, none in that state
        resp = client.get("/v1/jobs", params={"state": other}, headers=auth)
        assert resp.status_code == 200 and resp.json()["jobs"] == [], other


def test_a_full_page_says_it_is_cut_and_where_the_next_begins(api: tuple[TestClient, dict[str, str]]) -> None:
    """QA: 10,000 records came back with nothing to say more were left out."""
    client, auth = api
    body = {"wrap": "true", "options": {"hold": True}, "workdir": "/tmp"}
    jobs = [client.post("/v1/jobs", json=body, headers=auth).json()["job_id"] for _ in range(3)]
    page = client.get("/v1/jobs", params={"limit": 2}, headers=auth).json()
    assert [j["job_id"] for j in page["jobs"]] == jobs[:2] and page["truncated"] and page["next_after"] == jobs[1]
    rest = client.get("/v1/jobs", params={"limit": 2, "after": page["next_after"]}, headers=auth).json()
    assert [j["job_id"] for j in rest["jobs"]] == jobs[2:] and "truncated" not in rest


def test_metrics_have_zero_queue_series_and_node_states(api: tuple[TestClient, dict[str, str]]) -> None:
    """QA: an empty queue had no hal_queue_jobs series (alert rules read "no data", not 0), and no series said
    which nodes were drained."""
    client, auth = api
    text = client.get("/metrics", headers=auth).text
    assert 'hal_queue_jobs{partition="batch",state="PENDING"} 0.0' in text
    assert 'hal_queue_jobs{partition="debug",state="RUNNING"} 0.0' in text
    assert 'hal_nodes{state="idle"} 4.0' in text
    assert client.post("/v1/nodes/drain", json={"nodes": "vn001", "reason": "fans"}, headers=auth).status_code == 200
    text = client.get("/metrics", headers=auth).text
    assert 'hal_nodes{state="drain"} 1.0' in text and 'hal_nodes{state="idle"} 3.0' in text
