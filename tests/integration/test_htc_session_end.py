"""QA findings on how HTC sessions and tasks end, on a real session manager: closing a session (or its client going
away) stops its running tasks and frees their slots, a task past its application's timeout is killed and charged,
a service that crashes at import fails its tasks, detach and attach refuse what would strand a session."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import build
from hal.htc.client import HtcClient, Session, TaskLost
from hal.htc.local import LocalManager


@pytest.fixture(scope="module")
def client() -> Iterator[HtcClient]:
    with LocalManager(cpus=2) as c:
        yield c


def _row(client: HtcClient, sid: int) -> dict[str, object]:
    return next(r for r in client.sessions() if r["session"] == sid)


def _wait_running(client: HtcClient, s: Session) -> None:
    deadline = time.monotonic() + 30
    while not _row(client, s.id)["running"]:
        assert time.monotonic() < deadline, _row(client, s.id)
        time.sleep(0.05)


@pytest.mark.parametrize("ending", ["close", "client gone"])
def test_a_hung_task_of_an_ended_session_is_stopped_and_its_slot_serves_the_next_session(
    client: HtcClient, ending: str
) -> None:
    """It held its instance forever, still counted in the application's pool, so no later session of the
    application got a slot; the closed session showed RUNNING 1 forever, with no CANCELLED column."""
    app = f"hang-{ending.replace(' ', '-')}"
    client.register_app(app, "hal.htc.examples:pid_of", max_instances=1)
    a = client.session(app, slots=1)
    hung = [a.submit(3600.0) for _ in range(3)]  # one runs, one waits on the instance, one stays queued
    _wait_running(client, a)
    if ending == "close":
        a.close()
        for fut in hung:  # every one is told, the running one too
            with pytest.raises(CancelledError):
                fut.result(timeout=10)
    else:
        a._ch.sock.shutdown(socket.SHUT_RDWR)  # the client vanishes: a plain session is aborted
    with client.session(app, slots=1) as b:
        assert isinstance(b.submit(0.0).result(timeout=30), int)
    row = _row(client, a.id)
    table = CliRunner().invoke(build(["sessions"]), ["sessions", "-a", "--address", client.address]).stdout
    assert "CANCELLED" in table.splitlines()[0].split(), table
    assert row["state"] == ("closed" if ending == "close" else "aborted")
    assert (row["running"], row["prefetched"], row["queued"]) == (0, 0, 0), row
    assert (row["submitted"], row["done"], row["failed"], row["cancelled"]) == (3, 0, 0, 3), row


def test_a_task_past_the_application_timeout_is_killed_retried_and_fails_naming_it(client: HtcClient) -> None:
    at = ["--address", client.address, "--max-instances", "1", "--max-retries", "1"]
    said = CliRunner().invoke(build(["app"]), ["app", "register", "slow", "hal.htc.examples:pid_of", *at,
                                               "--task-timeout", "1"])  # fmt: skip
    assert said.exit_code == 0 and "task timeout 1 s" in said.stdout, said.output
    with client.session("slow", slots=1) as s:
        t0 = time.monotonic()
        with pytest.raises(TaskLost, match=r"task timeout \(1 s\).*gave up after 2 attempts"):
            s.submit(3600.0).result(timeout=30)
        assert time.monotonic() - t0 < 20
        assert isinstance(s.submit(0.1).result(timeout=30), int)  # a task within the limit runs as before
    row = _row(client, s.id)
    assert (row["retried"], row["failed"], row["done"]) == (2, 1, 1), row


def test_a_service_that_crashes_at_import_fails_its_tasks_instead_of_restarting_forever(
    client: HtcClient, tmp_path: Path
) -> None:
    """QA: a module segfaulting at import restarted instances without end (391 lost in 30 s); no task failed."""
    (tmp_path / "segv_at_import.py").write_text("import ctypes\nctypes.string_at(0)\n\ndef fn(x):\n    return x\n")
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH", "")) if p)
    client.register_app("crashimp", "segv_at_import:fn", max_instances=1, env={"PYTHONPATH": path})
    lost_before = client.stats()["totals"]["instances_lost"]
    with client.session("crashimp", slots=1) as s:
        with pytest.raises(TaskLost, match=r"die loading 'segv_at_import:fn'.*SIGSEGV"):
            s.submit(1).result(timeout=60)
        with pytest.raises(TaskLost, match="die loading"):  # later tasks of the session fail at once
            s.submit(2).result(timeout=10)
    assert client.stats()["totals"]["instances_lost"] - lost_before <= 4


def test_detach_is_refused_for_a_session_that_is_not_recoverable(client: HtcClient) -> None:
    """It was accepted: the session could never be attached again, held its slots, and threw its results away."""
    client.register_app("sq", "hal.htc.examples:square", max_instances=1)
    with client.session("sq", slots=1) as s:
        with pytest.raises(RuntimeError, match=f"session {s.id} is not recoverable"):
            s.detach()
        assert s.submit(7).result(timeout=30) == 49  # still the client's, still open
        assert _row(client, s.id)["state"] == "open"


def test_attach_is_refused_while_another_client_holds_the_session_and_says_the_next_task_id(
    client: HtcClient,
) -> None:
    """A second attach took the session silently: the first client's later results went to the second."""
    client.register_app("sq2", "hal.htc.examples:square", max_instances=1)
    first = client.session("sq2", slots=1, recoverable=True)
    assert [first.submit(i).result(timeout=30) for i in range(5)] == [0, 1, 4, 9, 16]
    with pytest.raises(RuntimeError, match=f"session {first.id} is attached to another client; detach it first"):
        client.attach(first.id)
    assert first.submit(5).result(timeout=30) == 25  # the first client was not disturbed
    first.detach()
    again = client.attach(first.id)
    try:
        assert again.info["submitted"] == 6 and again.info["next_tid"] == 6
    finally:
        again.close()
