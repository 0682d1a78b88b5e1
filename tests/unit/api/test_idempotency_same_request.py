"""A used idempotency key with another request is refused, naming what differs (QA: another array range,
dependency, environment, workdir or hold was answered with the first jobs, and a single job reused with an array
came back as an "array" of one); a true retry, the same body again, still gets the first jobs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.controller.auth import create_token
from hal.controller.directives import JobRequest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture
def post(tmp_path: Path) -> Iterator[Any]:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    token = create_token(store, "carol")
    with TestClient(app) as client:

        def send(key: str, path: str = "/v1/jobs", **body: Any) -> Any:
            options = {"hold": True, **body.pop("options", {})}
            full = {"wrap": "echo hi", "options": options, "workdir": "/tmp", "idempotency_key": key, **body}
            return client.post(path, json=full, headers={"Authorization": f"Bearer {token}"})

        yield send
    executor.shutdown()
    store.close()


def _refused(resp: Any, *names: str) -> None:
    assert resp.status_code == 400, resp.text
    said = resp.json()["detail"]
    assert "was used for another request" in said and all(n in said for n in names), said


def test_another_array_range_is_refused_and_the_same_one_replayed(post: Any) -> None:
    first = post("arr-k", options={"array": "0-3"})
    assert first.status_code == 201 and len(first.json()["job_ids"]) == 4
    _refused(post("arr-k", options={"array": "0-99"}), "its array differs")
    _refused(post("arr-k", options={"array": "1-4"}), "array")
    again = post("arr-k", options={"array": "0-3"})
    assert again.status_code == 200 and again.json()["replayed"], again.text
    assert again.json()["job_ids"] == first.json()["job_ids"]
    assert again.json()["array_job_id"] == first.json()["array_job_id"]


def test_a_single_job_reused_with_an_array_is_refused(post: Any) -> None:
    first = post("one-k")
    assert first.status_code == 201 and first.json()["array_job_id"] is None
    _refused(post("one-k", options={"array": "0-3"}), "array")  # was: 200, array_job_id = the single job's id
    assert post("one-k").json()["array_job_id"] is None


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"options": {"dependency": "afterok:1"}}, "dependencies"),
        ({"env": {"A": "2"}}, "env"),
        ({"workdir": "/"}, "workdir"),
        ({"options": {"hold": False, "begin": "now+3600"}}, "hold"),
        ({"options": {"array": "0-1%1"}}, "array and array_limit differ"),
    ],
)
def test_each_other_field_is_refused_by_name(post: Any, change: dict[str, Any], named: str) -> None:
    base = {"env": {"A": "1"}}
    assert post("k", **base).status_code == 201
    _refused(post("k", **{**base, **change}), named)
    assert post("k", **base).status_code == 200


def test_a_retry_after_release_or_with_a_relative_begin_is_still_a_retry(post: Any) -> None:
    held = post("held-k").json()["job_id"]
    assert post("held-k").status_code == 200
    # hal release rewrites the stored hold: the same body again is still the same submission
    assert post("", path=f"/v1/jobs/{held}/release").status_code == 200
    assert post("held-k").json()["job_ids"] == [held]
    later = {"options": {"begin": "now+3600", "dependency": "singleton", "job-name": "single"}}
    first = post("begin-k", **later)
    assert first.status_code == 201
    again = post("begin-k", **later)  # another begin time; singleton now resolves to the first job itself
    assert again.status_code == 200 and again.json()["job_ids"] == first.json()["job_ids"], again.text


def test_every_request_field_is_compared_or_said_why_not() -> None:
    from hal.controller.same_request import NOT_COMPARED, SAME_REQUEST  # a new field must be one or the other

    fields = {f.name for f in dataclasses.fields(JobRequest)}
    assert fields == set(SAME_REQUEST) | set(NOT_COMPARED)
    assert not set(SAME_REQUEST) & set(NOT_COMPARED)


def test_dependencies_the_server_adds_are_not_what_was_asked() -> None:
    """singleton resolves to the user's unfinished jobs of that name (the first job itself at a retry), and an
    --input-data reader gets an afterok on its writer only while the writer has not published: neither is asked."""
    from hal.controller.same_request import _asked_deps

    class Store:
        def get(self, job_id: int) -> dict[str, Any] | None:
            return {"request": '{"outputs": ["ds"]}'} if job_id == 9 else {"request": "{}"}

    first = _asked_deps(Store(), [["afterok", "3"], ["singleton", "4"], ["singleton", "5"], ["afterok", "9"]], ["ds"])
    again = _asked_deps(Store(), [["afterok", "3"], ["singleton", "7"]], ["ds"])
    assert first == again == [["afterok", "3"], ["singleton", ""]]
    assert _asked_deps(Store(), [["afterok", "9"]], []) == [["afterok", "9"]]  # asked by hand, no input: kept
