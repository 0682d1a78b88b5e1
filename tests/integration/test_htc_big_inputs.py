"""QA: a task input or common data bigger than the instance's memory limit killed the instance while it received
it, before its beacon named the task: nothing was charged and the instance was restarted forever (session hung)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hal.htc.client import HtcClient, TaskLost
from hal.htc.local import LocalManager

BIG = b"z" * (160 << 20)  # beyond the 120 MiB limit once received


@pytest.fixture(scope="module")
def client() -> Iterator[HtcClient]:
    with LocalManager(cpus=2) as c:
        c.register_app("small", "hal.htc.examples:noop", mem_mb=120, max_instances=1, max_retries=1)
        yield c


def test_an_input_too_big_for_the_instance_fails_the_task_and_the_session_goes_on(client: HtcClient) -> None:
    with client.session("small", slots=1) as s:
        big = s.submit(BIG)
        with pytest.raises(TaskLost, match=r"exceeded its memory limit \(120 MiB\).*did not fit.*after 2 attempts"):
            big.result(timeout=60)
        assert s.submit(b"ok").result(timeout=30) == b"ok"
    row = [r for r in client.sessions() if r["app"] == "small"][-1]
    assert (row["done"], row["failed"], row["retried"]) == (1, 1, 2)


def test_common_data_too_big_for_the_instance_fails_the_sessions_tasks(client: HtcClient) -> None:
    with client.session("small", slots=1, common=BIG) as s:
        first = s.submit(1)
        with pytest.raises(TaskLost, match=r"common data .*did not fit"):
            first.result(timeout=60)
        with pytest.raises(TaskLost, match=r"common data .*did not fit"):
            s.submit(2).result(timeout=10)
