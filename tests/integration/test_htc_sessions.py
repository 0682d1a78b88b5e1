"""HTC sessions end to end on a real session manager process: map, submit, common data, errors, cancel, asyncio."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from concurrent.futures import CancelledError

import pytest

from hal.htc.client import HtcClient, RemoteTraceback
from hal.htc.local import LocalManager


@pytest.fixture(scope="module")
def client() -> Iterator[HtcClient]:
    with LocalManager(cpus=2) as c:
        c.register_app("square", "hal.htc.examples:square", max_instances=2)
        c.register_app("fail", "hal.htc.examples:fail_on", max_instances=2)
        c.register_app("common", "hal.htc.examples:add_common", max_instances=2)
        c.register_app("scaler", "hal.htc.examples:Scaler", max_instances=2)
        c.register_app("sleep", "hal.htc.examples:sleep_ms", max_instances=2)
        c.register_app("echo", "cmd:echo -n task-{input}", max_instances=1)
        c.register_app("broken", "hal.htc.no_such_module:fn", max_instances=1)
        yield c


def test_map_keeps_submission_order_and_unordered_returns_all(client: HtcClient) -> None:
    with client.session("square", slots=2) as s:
        assert list(s.map(range(2000))) == [i * i for i in range(2000)]
        assert sorted(s.map(range(500), ordered=False)) == [i * i for i in range(500)]
        futs = [s.submit(i) for i in range(50)]
        assert [f.result(timeout=30) for f in futs] == [i * i for i in range(50)]
    names = {a.name for a in client.apps()}
    assert {"square", "fail", "sleep"} <= names
    done = [r for r in client.sessions() if r["app"] == "square"]
    assert done and done[-1]["done"] == 2550 and done[-1]["state"] == "closed"


def test_common_data_reaches_functions_and_classes(client: HtcClient) -> None:
    with client.session("common", slots=2, common={"offset": 100}) as s:
        assert list(s.map(range(10))) == [100 + i for i in range(10)]
    with client.session("scaler", slots=1, common=3) as s:
        assert list(s.map(range(5))) == [0, 3, 6, 9, 12]


def test_exception_and_remote_traceback_reach_the_caller(client: HtcClient) -> None:
    with client.session("fail", slots=2) as s:
        fut = s.submit(3)
        with pytest.raises(ValueError, match="bad input 3") as info:
            fut.result(timeout=30)
        cause = info.value.__cause__
        assert isinstance(cause, RemoteTraceback)
        assert "fail_on" in cause.text and "raise ValueError" in cause.text
        assert s.submit(4).result(timeout=30) == 4  # the instance survived its task's exception
        with pytest.raises(ValueError, match="bad input 3"):
            list(s.map(range(20)))
    summary = [r for r in client.sessions() if r["app"] == "fail"][-1]
    assert summary["failed"] >= 2


def test_cancel_queued_tasks_and_priority(client: HtcClient) -> None:
    with client.session("sleep", slots=1) as s:
        first = s.submit(200)
        rest = [s.submit(50) for _ in range(20)]
        urgent = s.submit(1, priority=10)
        s.cancel(rest)
        assert urgent.result(timeout=30) == 1
        assert first.result(timeout=30) == 200
        assert all(f.cancelled() for f in rest)
        with pytest.raises(CancelledError):
            rest[-1].result(timeout=1)


def test_asyncio_session(client: HtcClient) -> None:
    async def main() -> tuple[int, list[int]]:
        async with client.async_session("square", slots=2) as s:
            one = await s.submit(12)
            many = [x async for x in s.map(range(300))]
        return one, many

    one, many = asyncio.run(main())
    assert one == 144 and many == [i * i for i in range(300)]


def test_leaving_a_map_early_cancels_what_it_queued(client: HtcClient) -> None:
    with client.session("square", slots=2, window=5000) as s:
        for i, x in enumerate(s.map(range(10**7))):  # far more than the window: streamed, never materialized
            assert x == i * i
            if i == 10_000:
                break
        assert s.submit(9).result(timeout=30) == 81
        row = next(r for r in client.sessions() if r["session"] == s.id)
        assert 10_000 < row["submitted"] < 20_000  # streamed within the window, never materialized
        assert row["queued"] == 0  # what the map had queued beyond its last read was cancelled


def test_ordered_map_holds_at_most_the_window_behind_a_straggler(client: HtcClient) -> None:
    with client.session("sleep", slots=2, window=200) as s:
        it = s.map(itertools.chain([1000], itertools.repeat(0, 10**6)))
        assert next(it) == 1000  # while it slept, the other slot finished hundreds of tasks held back for order
        it.close()
        row = next(r for r in client.sessions() if r["session"] == s.id)
        assert row["submitted"] <= 200  # results waiting for their turn count against the window


def test_command_template_and_unloadable_application(client: HtcClient) -> None:
    with client.session("echo", slots=1) as s:
        assert list(s.map(["a", "b c"])) == ["task-a", "task-b c"]  # one argument each, never split
    with client.session("broken", slots=1) as s:
        with pytest.raises(ModuleNotFoundError, match="no_such_module"):
            s.submit(1).result(timeout=30)
        with pytest.raises(ModuleNotFoundError):
            s.submit(2).result(timeout=30)  # every task fails with the reason; the instance stays up
