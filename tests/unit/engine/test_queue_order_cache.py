"""PendingQueue.ordered with its cached rows and last-order hint against a from-scratch sort of the queue."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.engine import queue as queue_module
from hal.engine.api import Context, QueueSort
from hal.engine.plugins.multifactor import Multifactor, MultifactorArgs
from hal.engine.plugins.unicep import Unicep
from hal.engine.plugins.wfp3 import Wfp3
from hal.engine.queue import PendingQueue, Waiting
from hal.engine.request import request_of
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace

USERS = ("ann", "bob", "cy", "dee")


class Clock:
    """A dynamic order from the specs alone (no columns): few distinct keys that change with the time, so
    ties are common and a hinted sort must fall back; some keys are NaN (sorted last, by seq)."""

    name = "clock"
    static = False

    def key(self, job: JobSpec, estimate: float) -> float:
        raise TypeError("use keys()")

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        t = int(ctx.now)
        return np.array(
            [math.nan if (j.job_id + t) % 11 == 0 else float((j.job_id * 7 + t) % 5) for j in jobs], np.float64
        )


ORDERS: dict[str, QueueSort] = {
    "wfp3": Wfp3(),
    "unicep": Unicep(),
    "multifactor": Multifactor(MultifactorArgs(max_age=3000.0)),
    "clock": Clock(),
}


def item(job_id: int, seq: int, submit: int, procs: int, user: int, estimate: int) -> Waiting:
    spec = JobSpec(job_id=job_id, submit_time=float(submit), tasks=procs, user=USERS[user], nice=user * 3)
    req = request_of(spec, ResourceSpace())
    return Waiting(spec, req, float(estimate), float(estimate), seq, int(req.total[0]))


def scratch(order: QueueSort, queued: list[Waiting], ctx: Context) -> list[Waiting]:
    """The queue sorted from scratch: keys from a plain list of specs, then (key, seq), NaN keys last."""
    items = sorted(queued, key=lambda w: w.seq)
    keys = order.keys([w.spec for w in items], np.array([w.estimate for w in items], np.float64), ctx)

    def rank(i: int) -> tuple[bool, float, int]:
        k = float(keys[i])
        return (math.isnan(k), 0.0 if math.isnan(k) else k, items[i].seq)

    return [items[i] for i in sorted(range(len(items)), key=rank)]


adds = st.tuples(
    st.just("add"),
    st.integers(0, 30),  # how far back the seq goes: 0 appends, more inserts before queued jobs sometimes
    st.integers(0, 2000),
    st.integers(1, 6),
    st.integers(0, 3),
    st.sampled_from([1, 30, 600, 7200]),
    st.sampled_from([1, 1, 2, 5, 40]),  # jobs added at once (more of the same, varied)
)
ops = st.lists(
    st.one_of(
        adds,
        adds,
        adds,
        st.tuples(st.just("remove"), st.lists(st.integers(0, 200), max_size=6)),
        st.tuples(st.just("heads"), st.integers(1, 4)),  # the first jobs leave (started as heads)
        st.tuples(st.just("pop")),
        st.tuples(st.just("tick"), st.sampled_from([1.0, 60.0, 997.0]), st.integers(0, 3)),  # keys change
        st.tuples(st.just("quiet")),  # ordered() twice without a change
    ),
    min_size=1,
    max_size=120,
)


@pytest.mark.parametrize("name", list(ORDERS))
@settings(max_examples=120, deadline=None)
@given(steps=ops, hinted=st.sampled_from([0, 3, 10**9]))
def test_ordered_matches_a_sort_from_scratch(name: str, steps: list[tuple[object, ...]], hinted: int) -> None:
    """``hinted``: queues of at least this many jobs sort from the last order (0: always, 10**9: never)."""
    saved = queue_module._HINTED
    queue_module._HINTED = hinted
    try:
        run(ORDERS[name], steps)
    finally:
        queue_module._HINTED = saved


def run(order: QueueSort, steps: list[tuple[object, ...]]) -> None:
    q, queued = PendingQueue(order), []
    ctx = Context(now=2000.0, total_cpus=16, usage={"ann": 50.0, "bob": 5.0}, total_usage=55.0)
    next_id, next_seq, used = 0, 1000, set()
    handed: list[tuple[object, list[list[float]]]] = []  # columns handed out, with their values then
    for op in steps:
        if op[0] == "add":
            _, back, submit, procs, user, estimate, count = op
            assert isinstance(back, int) and isinstance(submit, int) and isinstance(count, int)
            for i in range(count):
                seq = next_seq - (back if i == 0 else 0)
                while seq in used:
                    seq -= 31
                used.add(seq)
                next_seq += 1
                w = item(next_id, seq, submit + 7 * i, 1 + (procs + i) % 6, (user + i) % 4, estimate * (1 + i % 3))  # type: ignore[operator]
                next_id += 1
                q.add(w)
                queued.append(w)
        elif op[0] == "remove" and queued:
            picks = op[1]
            assert isinstance(picks, list)
            ids = {queued[i % len(queued)].spec.job_id for i in picks}
            q.remove(ids)
            queued = [w for w in queued if w.spec.job_id not in ids]
        elif op[0] == "heads" and queued:
            k = op[1]
            assert isinstance(k, int)
            first = sorted(queued, key=lambda w: w.seq)[:k]
            q.remove({w.spec.job_id for w in first})
            queued = [w for w in queued if w not in first]
        elif op[0] == "pop" and queued:
            head = min(queued, key=lambda w: w.seq)
            q.pop_head()
            queued.remove(head)
        elif op[0] == "tick":
            dt, user = op[1], op[2]
            assert isinstance(dt, float) and isinstance(user, int)
            ctx.now += dt
            ctx.usage[USERS[user]] = ctx.usage.get(USERS[user], 0.0) + 40.0 * user
            ctx.total_usage = sum(ctx.usage.values())
        got = q.ordered(ctx)  # every step, as every cycle does
        assert [w.seq for w in got] == [w.seq for w in scratch(order, queued, ctx)]
        cols = q.columns()
        handed.append((cols, [cols.submit.tolist(), cols.estimate.tolist(), cols.seq.tolist()]))
    for cols, then in handed:  # later adds and removals never changed columns handed out before
        assert [cols.submit.tolist(), cols.estimate.tolist(), cols.seq.tolist()] == then  # type: ignore[attr-defined]
    assert [w.seq for w in q.items()] == sorted(w.seq for w in queued)
    if queued:
        assert q.columns().seq.tolist() == sorted(w.seq for w in queued)


def test_columns_are_read_only() -> None:
    q = PendingQueue(Wfp3())
    for i in range(5):
        q.add(item(i, i, i, 1, 0, 10))
    cols = q.columns()
    with pytest.raises(ValueError):
        cols.submit[0] = 1.0
    assert [w.seq for w in q.ordered(Context(now=100.0))] == [0, 1, 2, 3, 4]  # the longest wait first


class Table:
    """Keys looked up by job id in a table the test sets between cycles."""

    name = "table"
    static = False

    def __init__(self) -> None:
        self.table: dict[int, float] = {}

    def key(self, job: JobSpec, estimate: float) -> float:
        raise TypeError("use keys()")

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        return np.array([self.table[j.job_id] for j in jobs], np.float64)


@pytest.mark.parametrize("later", [[math.nan, 1.0, math.nan, 0.0], [2.0, 1.0, 2.0, 0.0], [0.0, -0.0, 0.0, 0.0]])
def test_ties_and_nans_keep_seq_order_after_a_hinted_sort(monkeypatch: pytest.MonkeyPatch, later: list[float]) -> None:
    monkeypatch.setattr(queue_module, "_HINTED", 0)
    order = Table()
    q = PendingQueue(order)
    for i in range(4):
        q.add(item(i, i, i, 1, 0, 10))
    order.table = {0: 3.0, 1: 4.0, 2: 1.0, 3: 2.0}  # last order: 2, 3, 0, 1
    assert [w.seq for w in q.ordered(Context())] == [2, 3, 0, 1]
    order.table = dict(enumerate(later))
    assert [w.seq for w in q.ordered(Context())] == [w.seq for w in scratch(order, q.items(), Context())]
