"""`hal` inside a job acts as the job's user on this server (controller/job_tokens.py): it fell back to the token
file in HAL_HOME, so a job of a user who submitted with their own token acted as the server's admin, and the jobs
it submitted were the admin's. The job's token works only while that job runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from hal.client import HalError
from tests.integration.livekit import LiveServer, finished, gated, submit, wait_running


def test_hal_inside_a_job_acts_as_its_user_only_while_it_runs(server: LiveServer) -> None:
    bob = server.new_user("bob")
    gate, child, token = server.work / "gate", server.work / "child", server.work / "token"
    hal = f"{sys.executable} -m hal"
    script = server.work / "inside.sh"
    script.write_text(
        f'#!/bin/sh\nprintf %s "$HAL_TOKEN" > {token}\n'
        f"{hal} submit --parsable --wrap true > {child} || exit 3\n{gated(gate)}\n"
    )
    # The submitter's HAL_URL names nothing the job could reach: it finds its server through the HAL_HOME it is given
    sent = server.cli("submit", "--parsable", "--export=ALL,HAL_URL=http://127.0.0.1:9", str(script), token=bob)
    job = sent.stdout.strip()
    wait_running(server, job)
    deadline = time.monotonic() + 60
    while not (child.exists() and child.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    made = child.read_text().strip()
    with server.client() as admin:
        assert admin.get(made)["user"] == "bob"  # not the admin's
    own = token.read_text()
    assert own.startswith("hal_job_") and own not in (server.token(), bob)
    with server.client(own) as inside:
        assert inside.get(job)["user"] == "bob"
        with pytest.raises(HalError) as refused:
            inside.create_token("eve", False)  # bob is no admin, and nor is his job
        assert refused.value.status == 403
    Path(gate).touch()
    assert finished(server, job) == "COMPLETED"
    with server.client(own) as after, pytest.raises(HalError) as gone:
        after.get(job)
    assert gone.value.status == 401  # the job ended: its token with it


def test_a_forged_or_stale_job_token_is_refused(server: LiveServer) -> None:
    job = submit(server, "true")
    assert finished(server, job) == "COMPLETED"
    for forged in (f"hal_job_{job}_0_{'0' * 40}", f"hal_job_{job}_0_", "hal_job_x"):
        with server.client(forged) as c, pytest.raises(HalError) as refused:
            c.get(job)
        assert refused.value.status == 401


def test_a_running_jobs_token_outlives_a_server_restart(server: LiveServer) -> None:
    """The key is kept in HAL_HOME: a restarted server honours the tokens of the jobs it finds still running."""
    gate, token = server.work / "gate2", server.work / "token2"
    job = submit(server, script=f'#!/bin/sh\nprintf %s "$HAL_TOKEN" > {token}\n{gated(gate)}\n')
    wait_running(server, job)
    deadline = time.monotonic() + 30
    while not (token.exists() and token.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    server.kill()
    server.start()
    with server.client(token.read_text()) as inside:
        assert inside.get(job)["state"] == "RUNNING"
    gate.touch()
    assert finished(server, job) == "COMPLETED"


def test_a_job_token_has_one_spelling_and_ends_with_its_users_tokens(server: LiveServer) -> None:
    """QA: ``hal_job_07_0_<mac>`` was taken for job 7 (a token had many spellings), and a revoked user's running
    job kept acting for them (it could go on submitting jobs)."""
    carol = server.new_user("carol")
    gate, token = server.work / "gate3", server.work / "token3"
    script = f'#!/bin/sh\nprintf %s "$HAL_TOKEN" > {token}\n{gated(gate)}\n'
    job = server.cli("submit", "--parsable", "--wrap", script.split("\n", 1)[1], token=carol).stdout.strip()
    wait_running(server, job)
    deadline = time.monotonic() + 30
    while not (token.exists() and token.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    own = token.read_text()
    padded = own.replace(f"hal_job_{job}_", f"hal_job_0{job}_", 1)
    with server.client(own) as inside:
        assert inside.get(job)["user"] == "carol"
    with server.client(padded) as other, pytest.raises(HalError) as refused:
        other.get(job)
    assert refused.value.status == 401
    assert server.cli("token", "revoke", "--user", "carol").returncode == 0
    with server.client(own) as inside, pytest.raises(HalError) as revoked:
        inside.get(job)
    assert revoked.value.status == 401
    gate.touch()
    assert finished(server, job) == "COMPLETED"
