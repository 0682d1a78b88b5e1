"""QA: `hal update` of a 3,000-task array took 8 s and of 10,000 tasks 69 s, under the controller's lock (the whole
server stalled, and the CLI timed out on a change that was applied); `hal hold`/`hal release` grew with the square
of the array too. The work is counted here, not timed: Python calls for an update, the array's waiting line
scanned for a hold and a release, at two sizes 4x apart."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hal.api.server import ServerOptions, build
from hal.controller.auth import Identity
from hal.controller.directives import build_request
from hal.controller.holds import set_hold
from hal.controller.jobs import new_row, request_json
from hal.controller.store import Store, job_events, sqlite_url
from hal.controller.update import update

ADMIN = Identity("root", admin=True)


class Line(deque[int]):
    """An array's waiting line that counts the tasks read from it."""

    read = 0

    def __iter__(self) -> Iterator[int]:
        for jid in super().__iter__():
            self.read += 1
            yield jid


def _array(tmp: Path, n: int, held: bool) -> tuple[Any, int, Callable[[], None]]:
    """A controller (not started) with an array of ``n`` tasks 0-(n-1)%5; its id; the controller's teardown."""
    tmp.mkdir(parents=True, exist_ok=True)
    cluster = tmp / "c.toml"
    cluster.write_text('name = "t"\n[[nodes]]\nnames = "node[01-16]"\ncpus = 2\nmem = "1G"\n')
    ctl, _app, store, executor = build(ServerOptions(home=tmp / "home", executor="dev", cluster=cluster))
    options = {"array": f"0-{n - 1}%5", **({"hold": "1"} if held else {})}
    array = ctl.submit(build_request("#!/bin/sh\ntrue\n", options, {}, str(tmp), 0), "root").array_job_id
    ctl.gates[array].waiting = Line(ctl.gates[array].waiting)

    def close() -> None:
        executor.shutdown()
        store.close()

    return ctl, array, close


def _calls(fn: Callable[[], object]) -> int:
    count = 0

    def hook(_frame: object, event: str, _arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def test_an_update_of_a_whole_array_does_work_linear_in_its_tasks(tmp_path: Path) -> None:
    """Each task's stored request was made with ``JobRequest.to_dict``, which deep-copied its ``array``: the
    whole array's task list, so every task cost as much as the array is long."""
    calls = {}
    for n in (150, 600):
        ctl, array, close = _array(tmp_path / str(n), n, held=True)
        try:
            calls[n] = _calls(lambda: update(ctl, str(array), ADMIN, {"Nice": "5"}))  # noqa: B023
            assert all(ctl.live[array + i].spec.nice == 5 for i in range(n))
            rows = ctl.store.query(job_ids=[array, array + n - 1])
            assert all('"nice":5' in r["request"] and '"array":null' in r["request"] for r in rows)
        finally:
            close()
    assert calls[600] < 5 * calls[150], calls  # linear: about 4x; the square was 10x and more


@pytest.mark.parametrize("verb", ["release", "hold", "cancel"])
def test_a_hold_release_or_cancel_of_a_whole_array_reads_its_line_a_few_times(tmp_path: Path, verb: str) -> None:
    """Each task held or released let the array's waiting tasks in at once (scanning the whole line each time),
    and a task held gave its slot to the next task, which went through the engine to be held in turn."""
    for n in (150, 600):
        ctl, array, close = _array(tmp_path / str(n), n, held=verb != "hold")
        try:
            line = ctl.gates[array].waiting
            if verb == "cancel":
                assert len(ctl.cancel(str(array), ADMIN)) == n and not ctl.live
            else:
                assert len(set_hold(ctl, str(array), ADMIN, verb == "hold")) == n
            assert line.read <= 3 * n, (n, line.read)
            running = sorted(j - array for j in ctl.sched.known if j in ctl.live)
            assert running == ([] if verb != "release" else [0, 1, 2, 3, 4])  # the first five, as before
        finally:
            close()


def test_after_a_hold_and_release_of_an_array_its_tasks_go_on_in_order(tmp_path: Path) -> None:
    """A hold of the whole array left its line reversed (each task held went to its front), so once the first
    five tasks ended the array went on with its highest task, not task 5 (Slurm starts the lowest)."""
    ctl, array, close = _array(tmp_path, 12, held=False)
    try:
        set_hold(ctl, str(array), ADMIN, True)
        set_hold(ctl, str(array), ADMIN, False)
        assert sorted(j - array for j in ctl.sched.known if j in ctl.live) == [0, 1, 2, 3, 4]
        assert [j - array for j in ctl.gates[array].waiting] == list(range(5, 12))
    finally:
        close()


def test_batched_writes_land_as_written_one_at_a_time(tmp_path: Path) -> None:
    """``Store.batched``: the rows and events of a batch, a job changed twice in it keeping its last change."""
    store = Store(sqlite_url(tmp_path / "s.db"))
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"job-name": "j"}, {}, str(tmp_path), 0)
        with store.engine.begin() as conn:
            rows = [new_row(i, req, "u", 0.0, None, request_json(req, [])) for i in (1, 2, 3)]
            store.insert_jobs(conn, rows, 0.0, "submitted")
        with store.engine.begin() as conn, store.batched(conn):
            store.update_job(conn, 1, {"cause": "a", "name": "x"}, (1, 1.0, "PENDING", "a"))
            store.update_job(conn, 2, {"cause": "b"}, (2, 1.0, "PENDING", "b"))
            store.add_events(conn, [(3, 1.5, "PENDING", "c")])
            store.update_job(conn, 1, {"cause": "d"}, (1, 2.0, "PENDING", "d"))  # twice: the last one stays
            assert store.get(1)["cause"] == "submitted"  # type: ignore[index]  # not yet written
        got = {r["id"]: (r["cause"], r["name"]) for r in store.query(job_ids=[1, 2, 3])}
        assert got == {1: ("d", "x"), 2: ("b", "j"), 3: ("submitted", "j")}
        with store.engine.connect() as conn:
            events = [tuple(r) for r in conn.execute(job_events.select().order_by(job_events.c.id)).all()]
        assert [e[-1] for e in events][3:] == ["a", "b", "c", "d"]
    finally:
        store.close()
