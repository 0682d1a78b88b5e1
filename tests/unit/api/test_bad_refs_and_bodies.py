"""QA: a malformed job id (abc, 1.5) was answered 404 as if the job were gone; ?since=nan listed nothing with a
200; a body with both a script and a wrap ran the wrap and dropped the script without a word (sbatch refuses
a script with --wrap)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.controller.auth import create_token

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"
Api = tuple[TestClient, dict[str, str]]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    headers = {"Authorization": f"Bearer {create_token(store, 'carol')}"}
    with TestClient(app) as client:
        yield client, headers
    executor.shutdown()
    store.close()


def test_a_malformed_job_id_is_a_bad_request_and_an_unknown_one_not_found(api: Api) -> None:
    client, headers = api
    for bad in ("abc", "1.5", "12_x", "-5", "3_-1"):
        resp = client.get(f"/v1/jobs/{bad}", headers=headers)
        assert (resp.status_code, resp.json()["detail"]) == (400, f"{bad!r} is not a job id"), bad
    assert client.delete("/v1/jobs/abc", headers=headers).status_code == 400
    assert client.get("/v1/jobs/99999", headers=headers).status_code == 404  # well formed, no such job
    assert client.get("/v1/jobs/99999_3", headers=headers).status_code == 404
    got = client.post("/v1/jobs/cancel", json={"jobs": ["abc", "99999"]}, headers=headers).json()
    assert got["failed"] == {"abc": "'abc' is not a job id", "99999": "no job 99999"}


def test_non_finite_times_are_refused(api: Api) -> None:
    client, headers = api
    for query in ("since=nan", "until=inf", "since=-inf", "until=NaN"):
        assert client.get(f"/v1/jobs?{query}", headers=headers).status_code == 422, query
    assert client.get("/v1/jobs?since=0&until=1e12", headers=headers).status_code == 200


def test_a_script_and_a_wrap_together_are_refused(api: Api) -> None:
    client, headers = api
    both = {"script": "#!/bin/sh\necho hi\n", "wrap": "true", "workdir": "/tmp", "options": {"hold": True}}
    resp = client.post("/v1/jobs", json=both, headers=headers)
    assert resp.status_code == 400 and "not both" in resp.json()["detail"], resp.text
    for alone in ({"script": both["script"]}, {"wrap": "true"}):
        resp = client.post("/v1/jobs", json={**alone, "workdir": "/tmp", "options": {"hold": True}}, headers=headers)
        assert resp.status_code == 201, resp.text
