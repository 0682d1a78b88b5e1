"""StdIn is the job's --input, named as its StdOut is (relative under the workdir, %N as typed until it starts),
and the job reads it: /dev/null only without one; a missing file fails the job at launch with the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.unit.api.test_pending_std_paths import _ended, api  # noqa: F401 (the fixture)


def _held(client: TestClient, auth: dict[str, str], work: Path, **options: Any) -> str:
    body = {"script": "#!/bin/sh\ncat\n", "options": {"hold": True, **options}, "workdir": str(work)}
    resp = client.post("/v1/jobs", json=body, headers=auth)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["job_id"])


def _run(client: TestClient, auth: dict[str, str], job: str) -> dict[str, Any]:
    assert client.post(f"/v1/jobs/{job}/release", headers=auth).status_code == 200
    return _ended(client, auth, job)


def test_stdin_path_and_the_job_reads_it(api: Any) -> None:  # noqa: F811
    client, auth, work = api
    job = _held(client, auth, work, input="in-%j-%N.txt", nodelist="vn001")
    pending = client.get(f"/v1/jobs/{job}", headers=auth).json()
    assert pending["stdin_path"] == f"{work}/in-{job}-%N.txt"
    (work / f"in-{job}-vn001.txt").write_text("from the file\n")
    ran = _run(client, auth, job)
    assert ran["state"] == "COMPLETED", ran
    assert ran["stdin_path"] == f"{work}/in-{job}-vn001.txt"
    assert Path(ran["stdout_path"]).read_text() == "from the file\n"
    plain = _held(client, auth, work)
    assert client.get(f"/v1/jobs/{plain}", headers=auth).json()["stdin_path"] == "/dev/null"
    ran = _run(client, auth, plain)
    assert ran["state"] == "COMPLETED" and Path(ran["stdout_path"]).read_text() == "", ran


def test_a_missing_input_fails_the_job(api: Any) -> None:  # noqa: F811
    client, auth, work = api
    ran = _run(client, auth, _held(client, auth, work, input=str(work / "absent.txt")))
    assert ran["state"] == "FAILED" and ran["exit_code"] == 1, ran
    assert f"cannot open the job's --input file {work}/absent.txt: No such file or directory" in ran["cause"]
