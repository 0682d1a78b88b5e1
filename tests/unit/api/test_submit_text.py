"""QA F3/F4/F7/F9/F11: what POST /v1/jobs and its neighbours refuse at the door, with a 4xx naming it, instead of
accepting it and failing at launch or answering 500 for good."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.job_logs import read_log
from hal.api.server import ServerOptions, build
from hal.api.text_checks import raw_workdir
from hal.controller.auth import create_token

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"
Api = tuple[TestClient, dict[str, str], Path]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    headers = {"Authorization": f"Bearer {create_token(store, 'carol')}", "Content-Type": "application/json"}
    with TestClient(app) as client:
        yield client, headers, tmp_path
    executor.shutdown()
    store.close()


def _post(api: Api, path: str, raw: str) -> tuple[int, str]:
    """``raw`` JSON text as sent: "\\ud800" stays a lone surrogate escape, which json.dumps of a str cannot make."""
    client, headers, _ = api
    resp = client.post(path, content=raw.encode("ascii"), headers=headers)
    return resp.status_code, str(resp.json().get("detail"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"wrap": "echo \\ud800", "workdir": "/tmp"}', "wrap"),
        ('{"wrap": "true", "workdir": "/tmp", "options": {"comment": "a\\ud800"}}', "comment"),
        ('{"wrap": "true", "workdir": "/tmp", "options": {"job-name": "n\\udce9"}}', "job-name"),
        ('{"wrap": "true", "workdir": "/tmp", "env": {"A": "\\udfff"}}', "env variable A"),
        ('{"wrap": "true", "workdir": "/tmp", "env": {"\\ud800": "b"}}', "env name"),
        ('{"script": "#!/bin/sh\\ntrue \\ud800\\n", "workdir": "/tmp"}', "script"),
        ('{"wrap": "true", "workdir": "/tmp/\\ud800"}', "workdir"),
        ('{"script": "#!/bin/sh\\ntrue\\n", "workdir": "/tmp", "args": ["ok", "\\ud800"]}', "args[1]"),
    ],
)
def test_lone_surrogates_are_refused_naming_the_field(api: Api, body: str, field: str) -> None:
    status, detail = _post(api, "/v1/jobs", body)
    assert status == 400, detail
    assert detail.startswith(f"{field} contains an invalid character (lone surrogate U+D"), detail
    client, headers, _ = api
    assert client.get("/v1/jobs?detail=true", headers=headers).json()["jobs"] == []  # nothing was stored


def test_update_fields_are_checked_too(api: Api) -> None:
    client, headers, _ = api
    job = client.post("/v1/jobs", json={"wrap": "true", "workdir": "/tmp", "options": {"hold": True}}, headers=headers)
    assert job.status_code == 201, job.text
    status, detail = _post(api, f"/v1/jobs/{job.json()['job_id']}/update", '{"fields": {"Comment": "x\\ud800"}}')
    assert (status, detail) == (400, "Comment contains an invalid character (lone surrogate U+D800)")
    assert client.get(f"/v1/jobs/{job.json()['job_id']}", headers=headers).status_code == 200


def test_huge_ids_are_a_4xx_not_a_500(api: Api) -> None:
    client, headers, _ = api
    assert client.get("/v1/jobs?after=99999999999999999999999", headers=headers).status_code == 422
    assert client.get("/v1/jobs?after=-1", headers=headers).status_code == 422
    assert client.get("/v1/jobs?after=5", headers=headers).status_code == 200
    for path in ("/v1/jobs/99999999999999999999999", "/v1/jobs/99999999999999999999999/logs"):
        assert client.get(path, headers=headers).status_code == 404, path
    assert client.get("/v1/jobs/1/logs?tail=99999999999999999999999", headers=headers).status_code == 422


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"env": {"A\u0000": "b"}}, "name 'A\\x00' is invalid"),
        ({"env": {"A=B": "b"}}, "name 'A=B' is invalid"),
        ({"env": {"A": "b\u0000"}}, "A contains a NUL byte"),
        ({"args": ["a\u0000"]}, "script argument 1 contains a NUL byte"),
        ({"workdir": "/tmp/a\u0000b"}, "working directory contains a NUL byte"),
        ({"options": {"output": "o\u0000"}}, "--output contains a NUL byte"),
        ({"args": ["x" * 1000] * 4000}, "a process takes at most"),
    ],
)
def test_what_could_never_be_executed_is_refused_at_submission(api: Api, extra: dict[str, object], words: str) -> None:
    client, headers, _ = api
    body = {"script": "#!/bin/sh\ntrue\n", "workdir": "/tmp", **extra}
    resp = client.post("/v1/jobs", json=body, headers=headers)
    assert resp.status_code == 400 and words in resp.json()["detail"], resp.text


def test_mem_and_mem_per_cpu_are_mutually_exclusive(api: Api) -> None:
    client, headers, _ = api
    said = "--mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive"
    both = {"wrap": "true", "workdir": "/tmp", "options": {"mem": "1G", "mem-per-cpu": "100M"}}
    resp = client.post("/v1/jobs", json=both, headers=headers)
    assert (resp.status_code, resp.json()["detail"]) == (400, said)
    script = "#!/bin/sh\n#SBATCH --mem=1G\n#SBATCH --mem-per-cpu=100M\ntrue\n"
    resp = client.post("/v1/jobs", json={"script": script, "workdir": "/tmp"}, headers=headers)
    assert (resp.status_code, resp.json()["detail"]) == (400, said)
    script = "#!/bin/sh\n#SBATCH --mem-per-cpu=100M\n#SBATCH -c 2\ntrue\n"  # the command line's --mem replaces it
    body = {"script": script, "workdir": "/tmp", "options": {"mem": "1G", "hold": True}}
    resp = client.post("/v1/jobs", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    assert client.get(f"/v1/jobs/{resp.json()['job_id']}", headers=headers).json()["req_mem_mb"] == 1024


def test_cancel_many_reports_bad_and_unknown_ids(api: Api) -> None:
    client, headers, _ = api
    job = client.post("/v1/jobs", json={"wrap": "true", "workdir": "/tmp", "options": {"hold": True}}, headers=headers)
    ref = str(job.json()["job_id"])
    got = client.post("/v1/jobs/cancel", json={"jobs": ["abc", "-1", "99999999999999999999999", ref]}, headers=headers)
    assert got.status_code == 200
    assert got.json()["cancelled"] == {ref: [int(ref)]}
    assert sorted(got.json()["failed"]) == ["-1", "99999999999999999999999", "abc"]
    assert got.json()["failed"]["abc"] == "'abc' is not a job id"


def test_logs_refuse_an_unknown_stream_and_read_only_the_tail(api: Api, tmp_path: Path) -> None:
    client, headers, _ = api
    job = client.post("/v1/jobs", json={"wrap": "true", "workdir": "/tmp", "options": {"hold": True}}, headers=headers)
    resp = client.get(f"/v1/jobs/{job.json()['job_id']}/logs?stream=stdrr", headers=headers)
    assert resp.status_code == 400 and "unknown stream 'stdrr'" in resp.text
    out = tmp_path / "out.txt"
    out.write_bytes(b"a" * 100_000 + b"the end\n")
    assert read_log(str(out), 8) == "the end\n"
    assert read_log(str(out), 10**9) == out.read_text()
    assert read_log(str(out)) == out.read_text()
    assert read_log(str(tmp_path / "none")) == ""


def test_a_working_directory_that_is_not_utf8_runs_through_an_alias(api: Api, tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9"
    os.mkdir(raw)
    encoded = base64.b64encode(raw).decode()
    alias = raw_workdir(encoded, tmp_path / "home")
    assert alias.startswith(str(tmp_path / "home" / "workdirs")) and alias.isascii()
    assert os.path.samefile(alias, raw)
    assert raw_workdir(encoded, tmp_path / "home") == alias  # the same one again
    assert raw_workdir(base64.b64encode(b"/tmp").decode(), None) == "/tmp"  # UTF-8 after all: as it is
    client, headers, _ = api
    body = {"wrap": "true", "workdir": "/tmp/caf?", "workdir_bytes": encoded, "options": {"hold": True}}
    resp = client.post("/v1/jobs", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    rec = client.get(f"/v1/jobs/{resp.json()['job_id']}", headers=headers).json()
    assert os.path.samefile(rec["workdir"], raw)
    json.dumps(rec)  # text throughout
    for bad in ("not base64!", base64.b64encode(b"relative").decode()):
        body["workdir_bytes"] = bad
        assert client.post("/v1/jobs", json=body, headers=headers).status_code == 400
