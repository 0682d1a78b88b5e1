"""The SDK never leaves a future pending or a map fed with others' results, on a real session manager (QA findings):
a map after a re-attach, close() with tasks on an instance, an unpicklable input, a session refused by the manager,
and errors that say what happened."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from hal.htc import wire
from hal.htc.client import HtcClient, Session, SessionBroken
from hal.htc.local import LocalManager


@pytest.fixture(scope="module")
def client() -> Iterator[HtcClient]:
    with LocalManager(cpus=2) as c:
        c.register_app("square", "hal.htc.examples:square", max_instances=2)
        c.register_app("sleep", "hal.htc.examples:sleep_ms", max_instances=2)
        yield c


def _within(seconds: float, fn: Callable[[], Any]) -> Any:
    """``fn()``, or a failure after ``seconds`` instead of a hung test run."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _until_running(client: HtcClient, sid: int) -> None:
    deadline = time.monotonic() + 30
    while not any(r["session"] == sid and r["running"] for r in client.sessions()):
        assert time.monotonic() < deadline, "no task started"
        time.sleep(0.05)


def _settled_with_closed(futs: Sequence[Future[Any]]) -> None:
    for f in futs:
        assert f.done(), "a future stayed pending after close()"
        if not f.cancelled():
            with pytest.raises(RuntimeError, match=r"session \d+ was closed with task \d+ outstanding"):
                f.result(timeout=0)


def _reattached_busy(client: HtcClient) -> Session:
    """A recoverable session whose 8 earlier tasks finish after a re-attach: their results reach the new client
    while it maps."""
    s = client.session("sleep", slots=1, recoverable=True)
    for _ in range(8):
        s.submit(250)
    s.detach()
    return client.attach(s.id)


def test_a_map_after_attach_yields_only_its_own_results_and_collect_gets_the_old_ones(client: HtcClient) -> None:
    again = _reattached_busy(client)
    try:
        assert sorted(_within(30, lambda: list(again.map([1, 2, 3], ordered=False)))) == [1, 2, 3]
        assert _within(30, lambda: again.collect(timeout=20)) == dict.fromkeys(range(8), 250)
    finally:
        again.close()
    again = _reattached_busy(client)
    try:
        again.window = 4  # fewer than the old results: they filled an ordered map's window and it hung
        assert _within(30, lambda: list(again.map(range(6)))) == list(range(6))
        assert len(_within(30, lambda: again.collect(timeout=20))) == 8
    finally:
        again.close()


def test_close_settles_the_futures_of_tasks_handed_to_an_instance(client: HtcClient) -> None:
    s = client.session("sleep", slots=1)
    futs = [s.submit(3000) for _ in range(2)] + [s.submit(1) for _ in range(3)]
    _until_running(client, s.id)
    s.close()
    _settled_with_closed(futs)
    assert not s._reader.is_alive()
    with pytest.raises(RuntimeError, match=rf"session {s.id} is closed"):  # not OSError: Bad file descriptor
        s.submit(1)
    with pytest.raises(RuntimeError, match=rf"session {s.id} is closed"):
        list(s.map([1]))


def test_detach_settles_what_this_client_can_no_longer_receive(client: HtcClient) -> None:
    s = client.session("sleep", slots=1, recoverable=True)
    futs = [s.submit(200) for _ in range(4)]
    s.detach()
    for f in futs:
        assert f.done(), "a future stayed pending after detach()"
        with pytest.raises(RuntimeError, match=rf"was detached with task \d+ outstanding: .*attach\({s.id}\)"):
            f.result(timeout=0)
    again = client.attach(s.id)
    try:
        assert _within(30, lambda: again.collect(timeout=20)) == dict.fromkeys(range(4), 200)
    finally:
        again.close()


def test_closing_an_async_session_settles_what_its_tasks_await(client: HtcClient) -> None:
    class Leave(Exception):
        pass

    async def main() -> tuple[str, str]:
        task: asyncio.Task[Any] | None = None
        try:
            async with client.async_session("sleep", slots=1) as s:
                task = asyncio.ensure_future(s.submit(3000))
                await asyncio.sleep(0)
                await asyncio.get_running_loop().run_in_executor(None, _until_running, client, s.id)
                raise Leave
        except Leave:
            pass
        assert task is not None
        done, _ = await asyncio.wait([task], timeout=10)
        got = "pending" if not done else "cancelled" if task.cancelled() else repr(task.exception())
        try:
            await s.submit(1)
        except RuntimeError as exc:
            return got, str(exc)
        return got, "accepted"

    got, after = asyncio.run(main())
    assert got == "cancelled" or "was closed with task 0 outstanding" in got, got
    assert re.fullmatch(r"session \d+ is closed", after), after


def test_an_unpicklable_input_leaves_no_future_for_the_with_block_to_wait_on(client: HtcClient) -> None:
    def use() -> int:
        with client.session("square", slots=1) as s:
            with pytest.raises(TypeError):
                s.submit(threading.Lock())
            value: int = s.submit(3).result(timeout=30)
        return value

    assert _within(30, use) == 9


def test_no_manager_names_its_socket(tmp_path: Path) -> None:
    address = str(tmp_path / "none.sock")
    for call in (lambda: HtcClient(address).session("square"), lambda: HtcClient(address).stats()):
        with pytest.raises(ConnectionError, match=rf"no session manager answers at {address} .*hal session-manager"):
            call()


def test_a_future_fails_when_the_manager_refuses_its_task(client: HtcClient) -> None:
    s = client.session("sleep", slots=1)
    running = s.submit(3000)
    _until_running(client, s.id)
    client._call((wire.CLOSE, s.id))  # the manager ends it under the client: the task it holds never returns
    late = s.submit(1)
    with pytest.raises(SessionBroken, match=rf"refused this client's tasks of session {s.id}"):
        late.result(timeout=10)
    assert running.done()
    s.close()


def test_a_second_client_attaching_never_leaves_the_first_ones_futures_pending(client: HtcClient) -> None:
    first = client.session("sleep", slots=1, recoverable=True)
    earlier = [first.submit(300) for _ in range(10)]
    _until_running(client, first.id)
    try:
        second: Session | None = client.attach(first.id)
    except RuntimeError:  # the manager may refuse a second client while the first is connected
        second = None
    late = first.submit(1)
    for f in [*earlier, late]:
        try:
            f.result(timeout=15)
        except SessionBroken:
            assert second is not None
    if second is not None:
        second.close()
    first.close()
