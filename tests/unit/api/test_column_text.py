"""QA: free text past a sized column, or with a NUL byte, answered 500 on PostgreSQL (SQLite stored it): the
Idempotency-Key header, idempotency_key, --account, a token's label, a drain reason, GET /v1/jobs's user and
partition. Each is a 400 naming the field on both databases, as --job-name and --comment are."""

from __future__ import annotations

from typing import Any

import pytest

from hal.controller import store
from hal.controller.column_text import MAX_ACCOUNT, MAX_IDEMPOTENCY_KEY, MAX_TOKEN_LABEL, column_problem

from .pg_api import Api, api_fixture, database_fixture  # noqa: F401  (the fixtures)

JOB: dict[str, Any] = {"wrap": "true", "workdir": "/tmp"}
ACCOUNT = "--account: at most 64 characters, no control characters"
KEY = "at most 128 characters, no NUL bytes"


def test_the_limits_are_the_columns() -> None:
    def length(table: Any, column: str) -> int:
        return int(table.c[column].type.length)

    assert length(store.jobs, "account") == length(store.job_attempts, "account") == MAX_ACCOUNT
    assert length(store.tokens, "label") == MAX_TOKEN_LABEL
    assert length(store.submissions, "key") == MAX_IDEMPOTENCY_KEY


def test_column_problem_in_words() -> None:
    assert column_problem("x", "a" * 64, 64, controls=True) is None
    assert column_problem("x", "a\tb", 64) is None  # only NUL, unless controls are refused
    assert column_problem("x", "a\tb", 64, controls=True) == "x: at most 64 characters, no control characters"
    assert column_problem("reason", "a\x00b") == "reason: no NUL bytes"


@pytest.mark.parametrize(
    ("body", "headers", "detail"),
    [
        (JOB, {"Idempotency-Key": "k" * 129}, f"Idempotency-Key header: {KEY}"),
        ({**JOB, "idempotency_key": "a\x00b"}, {}, f"idempotency_key: {KEY}"),
        ({**JOB, "options": {"account": "a" * 65}}, {}, ACCOUNT),
        ({**JOB, "options": {"account": "a\x00b"}}, {}, ACCOUNT),
        ({"script": f"#!/bin/sh\n#SBATCH --account={'b' * 70}\ntrue\n", "workdir": "/tmp"}, {}, ACCOUNT),
    ],
)
def test_a_submission_the_store_cannot_take_is_refused(
    api: Api, body: dict[str, Any], headers: dict[str, str], detail: str
) -> None:
    client, auth = api
    resp = client.post("/v1/jobs", json=body, headers={**auth, **headers})
    assert resp.status_code == 400, resp.text
    assert resp.json()["detail"] == detail
    assert client.get("/v1/jobs", headers=auth).json() == {"jobs": []}  # nothing was stored


def test_the_longest_account_and_key_are_taken(api: Api) -> None:
    client, auth = api
    body = {**JOB, "options": {"account": "a" * 64}}
    resp = client.post("/v1/jobs", json=body, headers={**auth, "Idempotency-Key": "k" * 128})
    assert resp.status_code == 201, resp.text
    assert client.get("/v1/jobs", headers=auth).json()["jobs"][0]["account"] == "a" * 64


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        ("/v1/tokens", {"user": "bob", "label": "l" * 129}, "label: at most 128 characters, no NUL bytes"),
        ("/v1/tokens", {"user": "bob", "label": "a\x00b"}, "label: at most 128 characters, no NUL bytes"),
        ("/v1/nodes/drain", {"nodes": "vn001", "reason": "a\x00b"}, "reason: no control characters"),
        ("/v1/nodes/drain", {"nodes": "vn001", "reason": "r\x1b[31mX\x07"}, "reason: no control characters"),
    ],
)
def test_admin_text_the_store_cannot_take_is_refused(api: Api, path: str, body: dict[str, Any], detail: str) -> None:
    client, auth = api
    resp = client.post(path, json=body, headers=auth)
    assert resp.status_code == 400, resp.text
    assert resp.json()["detail"] == detail
    assert client.get("/v1/nodes", headers=auth).status_code == 200


@pytest.mark.parametrize("param", ["user", "partition"])
def test_a_listing_filter_with_a_nul_is_refused(api: Api, param: str) -> None:
    client, auth = api
    resp = client.get("/v1/jobs", params={param: "a\x00b"}, headers=auth)
    assert resp.status_code == 400, resp.text
    assert resp.json()["detail"] == f"{param}: no NUL bytes"


def test_an_update_the_store_cannot_take_is_refused(api: Api) -> None:
    """QA: hal update Account=<70 characters> answered 500 on PostgreSQL; it is refused as at submission."""
    client, auth = api
    job = client.post("/v1/jobs", json={**JOB, "options": {"hold": True}}, headers=auth).json()["job_id"]
    for account in ("a" * 65, "a\x00b"):
        resp = client.post(f"/v1/jobs/{job}/update", json={"fields": {"Account": account}}, headers=auth)
        assert resp.status_code == 400 and "Account: at most 64 characters" in resp.text, resp.text
    fine = client.post(f"/v1/jobs/{job}/update", json={"fields": {"Account": "a" * 64}}, headers=auth)
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ({"workdir": "/tmp/w\x1b]0;PWNED\x07"}, "the working directory '/tmp/w\\x1b]0;PWNED\\x07' holds a control"),
        ({"options": {"output": "o\x1b[31mred.out"}}, "--output 'o\\x1b[31mred.out' holds a control character"),
        ({"options": {"error": "e\n.err"}}, "--error 'e\\n.err' holds a control character (U+000A)"),
        ({"options": {"input": "i\x7f"}}, "--input 'i\\x7f' holds a control character (U+007F)"),
        ({"options": {"chdir": "/tmp/\x1b[2J"}}, "--chdir '/tmp/\\x1b[2J' holds a control character"),
    ],
)
def test_paths_with_control_characters_are_refused(api: Api, where: dict[str, Any], said: str) -> None:
    """QA: a user's ESC sequences in a working directory or an output path reached an administrator's terminal
    through hal show and hal history; they are refused as a job name's are."""
    client, auth = api
    body = {**JOB, **where, "options": {**JOB.get("options", {}), **where.get("options", {})}}
    resp = client.post("/v1/jobs", json=body, headers=auth)
    assert resp.status_code == 400 and said in resp.json()["detail"], resp.text
