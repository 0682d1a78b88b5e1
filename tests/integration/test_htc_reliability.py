"""A killed service instance's task is retried, a task that always kills its instance fails with the reason,
and a recoverable session survives its client's disconnect and can be re-attached."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from hal.htc.client import HtcClient, TaskLost
from hal.htc.local import LocalManager


@pytest.fixture(scope="module")
def client() -> Iterator[HtcClient]:
    with LocalManager(cpus=2) as c:
        c.register_app("pid", "hal.htc.examples:pid_of", max_instances=1, max_retries=2)
        c.register_app("die", "hal.htc.examples:die", max_instances=1, max_retries=1)
        c.register_app("bad", "hal.htc.examples:die_if_negative", max_instances=1, max_retries=1)
        c.register_app("sleep", "hal.htc.examples:sleep_ms", max_instances=2)
        c.register_app("nostart", "hal.htc.examples:noop", max_instances=1, env={"PYTHONHOME": "/nonexistent"})
        yield c


def test_task_is_retried_after_its_instance_is_killed(client: HtcClient) -> None:
    with client.session("pid", slots=1) as s:
        victim = s.submit(0).result(timeout=30)
        fut = s.submit(1.5)
        time.sleep(0.4)
        os.kill(victim, signal.SIGKILL)
        survivor = fut.result(timeout=30)
        assert survivor != victim
        assert [s.submit(0).result(timeout=30) for _ in range(3)] == [survivor] * 3
    summary = [r for r in client.sessions() if r["app"] == "pid"][-1]
    assert summary["retried"] == 1 and summary["failed"] == 0 and summary["done"] == 5


def test_task_fails_with_the_reason_after_bounded_retries(client: HtcClient) -> None:
    with client.session("die", slots=1) as s:
        fut = s.submit(None)
        with pytest.raises(TaskLost, match=r"SIGKILL.*after 2 attempts"):
            fut.result(timeout=60)


def test_only_the_task_that_kills_its_instance_pays_the_attempts(client: HtcClient) -> None:
    inputs = [-1 if i == 300 else i for i in range(600)]  # fast tasks: the instance holds many at once
    with client.session("bad", slots=1) as s:
        futs = [s.submit(x) for x in inputs]
        with pytest.raises(TaskLost, match=r"SIGKILL.*after 2 attempts"):
            futs[300].result(timeout=60)
        assert [f.result(timeout=60) for i, f in enumerate(futs) if i != 300] == [x for x in inputs if x >= 0]
    row = [r for r in client.sessions() if r["app"] == "bad"][-1]
    assert row["failed"] == 1 and row["retried"] == 2 and row["done"] == 599


CLIENT_SCRIPT = """
import os, sys
from hal.htc.client import HtcClient
s = HtcClient(sys.argv[1]).session("sleep", slots=2, recoverable=True, name="eod-risk")
futs = [s.submit(20) for _ in range(40)]
print(s.id, flush=True)
os._exit(0)  # vanish without closing: the session must go on
"""


def test_recoverable_session_survives_disconnect_and_reattaches(client: HtcClient) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT, client.address], capture_output=True, text=True, timeout=60, check=True
    )
    sid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = [r for r in client.sessions() if r["session"] == sid]
        if rows and rows[0]["state"] == "detached":
            break
        time.sleep(0.05)
    assert rows and rows[0]["state"] == "detached" and rows[0]["submitted"] == 40
    again = client.attach(sid)
    try:
        results = again.collect(timeout=60)
    finally:
        again.close()
    assert sorted(results) == list(range(40)) and set(results.values()) == {20}


def test_an_application_that_cannot_start_fails_its_tasks_with_the_reason(client: HtcClient) -> None:
    with client.session("nostart", slots=1) as s:
        futs = [s.submit(i) for i in range(3)]
        for fut in futs:
            with pytest.raises(TaskLost, match=r"fail to start.*exited with code"):
                fut.result(timeout=60)
