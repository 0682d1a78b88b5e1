"""QA: a job id past 2**31-1 (jobs.id is a 32-bit integer) answered 500 NumericValueOutOfRange on PostgreSQL
wherever a reference was read; it is no job (404), or a bad page cursor (422), on both databases alike."""

from __future__ import annotations

import pytest

from hal.controller.job_ids import MAX_JOB_ID

from .pg_api import Api, api_fixture, database_fixture  # noqa: F401  (the fixtures)

BIG = MAX_JOB_ID + 1  # 2**31: the first id a 32-bit column cannot hold


@pytest.mark.parametrize("ref", [f"{BIG}", "3000000000", "3000000000_1", f"1_{BIG}", f"{BIG}_[1-2]", "999999999999"])
def test_a_reference_past_the_column_is_no_job(api: Api, ref: str) -> None:
    client, headers = api
    for resp in (
        client.get(f"/v1/jobs/{ref}", headers=headers),
        client.get(f"/v1/jobs/{ref}/events", headers=headers),
        client.delete(f"/v1/jobs/{ref}", headers=headers),
        client.post(f"/v1/jobs/{ref}/hold", headers=headers),
    ):
        assert resp.status_code == 404, resp.text
        assert resp.json()["detail"] == f"no job {ref}"
    many = client.post("/v1/jobs/cancel", json={"jobs": [ref]}, headers=headers)
    assert many.status_code == 200, many.text
    assert many.json() == {"cancelled": {}, "failed": {ref: f"no job {ref}"}}


def test_the_largest_id_is_still_looked_up(api: Api) -> None:
    client, headers = api
    resp = client.get(f"/v1/jobs/{MAX_JOB_ID}", headers=headers)
    assert resp.status_code == 404, resp.text
    assert resp.json()["detail"] == f"no job {MAX_JOB_ID}"
    assert client.get(f"/v1/jobs?after={MAX_JOB_ID}", headers=headers).json() == {"jobs": []}


def test_a_page_cursor_past_the_column_is_refused(api: Api) -> None:
    client, headers = api
    resp = client.get("/v1/jobs?after=3000000000", headers=headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["query", "after"]


def test_a_dependency_past_the_column_is_refused(api: Api) -> None:
    client, headers = api
    job = {"wrap": "true", "workdir": "/tmp", "options": {"dependency": "afterok:3000000000"}}
    resp = client.post("/v1/jobs", json=job, headers=headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["detail"] == "--dependency=afterok:3000000000: no job 3000000000"
    assert client.get("/v1/jobs", headers=headers).json() == {"jobs": []}
