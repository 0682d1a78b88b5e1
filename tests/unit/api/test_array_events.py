"""QA: GET /v1/jobs/ARRAY/events answered with task 0's events alone, and /v1/jobs/A_[4-5]/events with task
4's: it read the first row's. Every task named is answered, each event tagged with its task, in time order."""

from __future__ import annotations

from .pg_api import Api, api_fixture, database_fixture  # noqa: F401  (the fixtures)


def test_an_array_and_a_task_list_answer_with_every_tasks_events(api: Api) -> None:
    client, auth = api
    body = {"wrap": "true", "workdir": "/tmp", "options": {"array": "0-5", "hold": True}}
    array = client.post("/v1/jobs", json=body, headers=auth).json()["job_id"]
    assert client.delete(f"/v1/jobs/{array}_[4-5]", headers=auth).status_code == 200

    events = client.get(f"/v1/jobs/{array}/events", headers=auth).json()["events"]
    assert {e["array_task_id"] for e in events} == set(range(6)), events
    assert {(e["array_job_id"], e["job"]) for e in events} == {(array, f"{array}_{t}") for t in range(6)}
    assert [(e["time"], e["id"]) for e in events] == sorted((e["time"], e["id"]) for e in events)
    cancelled = [e["job"] for e in events if e["state"] == "CANCELLED"]
    assert cancelled == [f"{array}_4", f"{array}_5"], events

    listed = client.get(f"/v1/jobs/{array}_[4-5]/events", headers=auth).json()["events"]
    assert listed == [e for e in events if e["array_task_id"] in (4, 5)]
    one = client.get(f"/v1/jobs/{array}_2/events", headers=auth).json()["events"]
    assert one == [e for e in events if e["array_task_id"] == 2] and one


def test_a_plain_job_keeps_its_own_events(api: Api) -> None:
    client, auth = api
    job = client.post("/v1/jobs", json={"wrap": "true", "workdir": "/tmp", "options": {"hold": True}}, headers=auth)
    job_id = job.json()["job_id"]
    events = client.get(f"/v1/jobs/{job_id}/events", headers=auth).json()["events"]
    assert events and all(e["job_id"] == job_id and e["job"] == str(job_id) for e in events), events
    assert all(e["array_job_id"] is None and e["array_task_id"] is None for e in events)
