"""PendingQueue against a plain reference model: removal by bisection must leave exactly what a scan would."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.engine import queue as queue_module
from hal.engine.api import Context, QueueSort
from hal.engine.plugins.fcfs import Fcfs
from hal.engine.plugins.multifactor import Multifactor, MultifactorArgs
from hal.engine.plugins.sjf import Sjf
from hal.engine.plugins.wfp3 import Wfp3
from hal.engine.queue import JobColumns, PendingQueue, QueueJobs, Waiting
from hal.engine.request import request_of
from hal.model.job import JobSpec
from hal.model.resources import Resources, ResourceSpace

ORDERS: dict[str, QueueSort] = {
    "fcfs": Fcfs(),
    "sjf": Sjf(),
    "wfp3": Wfp3(),
    "multifactor": Multifactor(MultifactorArgs(max_age=500.0)),
}
USERS = ("ann", "bob", "cy")
NOW = 1000.0


@dataclass
class Reference:
    """The queue as a list of entries (key, seq, item), kept by the obvious means."""

    order: QueueSort
    entries: list[tuple[float, int, Waiting]] = field(default_factory=list)
    by_id: dict[int, Waiting] = field(default_factory=dict)

    def add(self, w: Waiting) -> None:
        key = self.order.key(w.spec, w.estimate) if self.order.static else 0.0
        self.entries.append((key, w.seq, w))
        self.by_id[w.spec.job_id] = w

    def items(self) -> list[Waiting]:
        return [e[2] for e in sorted(self.entries, key=lambda e: e[:2])]

    def remove(self, ids: set[int]) -> None:
        self.entries = [e for e in self.entries if e[2].spec.job_id not in ids]
        for i in ids:
            self.by_id.pop(i, None)

    def pop_head(self) -> None:
        head = min(self.entries, key=lambda e: e[:2])
        self.entries.remove(head)
        self.by_id.pop(head[2].spec.job_id, None)

    def columns(self) -> JobColumns:
        items = self.items()
        names = list(dict.fromkeys(t for w in items for t in (w.spec.user, w.spec.partition, w.spec.qos)))
        code = {t: i for i, t in enumerate(names)}

        def col(values: list[float], dtype: type) -> np.ndarray:
            return np.array(values, dtype=dtype)

        return JobColumns(
            col([w.spec.submit_time for w in items], np.float64),
            col([w.spec.tasks * w.spec.per_task.cpus for w in items], np.float64),
            col([w.spec.nice for w in items], np.float64),
            col([w.estimate for w in items], np.float64),
            col([w.seq for w in items], np.int64),
            col([code[w.spec.user] for w in items], np.intp),
            col([code[w.spec.partition] for w in items], np.intp),
            col([code[w.spec.qos] for w in items], np.intp),
            names,
        )

    def ordered(self, ctx: Context) -> list[Waiting]:
        items = self.items()
        if self.order.static or not items:
            return items
        cols = self.columns()
        jobs = QueueJobs([w.spec for w in items])
        jobs.columns = cols
        keys = self.order.keys(jobs, cols.estimate, ctx)
        return [items[i] for i in sorted(range(len(items)), key=lambda i: (float(keys[i]), items[i].seq))]


def decoded(cols: JobColumns) -> list[object]:
    """The columns with codes read back as names (each queue interns names in its own order)."""
    names = cols.names
    return [
        cols.submit.tolist(),
        cols.procs.tolist(),
        cols.nice.tolist(),
        cols.estimate.tolist(),
        cols.seq.tolist(),
        [names[c] for c in cols.user.tolist()],
        [names[c] for c in cols.partition.tolist()],
        [names[c] for c in cols.qos.tolist()],
    ]


def item(job_id: int, seq: int, submit: int, procs: int, cpuless: bool, user: int, estimate: int) -> Waiting:
    per_task = Resources(cpus=0, gpus=1) if cpuless else Resources(cpus=1)
    spec = JobSpec(
        job_id=job_id,
        submit_time=float(submit),
        tasks=procs,
        per_task=per_task,
        user=USERS[user],
        nice=user * 10,
        partition="p" + str(procs % 2),
    )
    req = request_of(spec, ResourceSpace())
    return Waiting(spec, req, float(estimate), float(estimate), seq, int(req.total[0]))


adds = st.tuples(
    st.just("add"),
    st.integers(0, 400),  # seq: out of order, so some adds insert before the tail
    st.integers(0, 900),  # submit (few distinct values: equal static keys tie on seq)
    st.integers(1, 4),
    st.booleans(),
    st.integers(0, 2),
    st.sampled_from([1, 10, 100, 1000]),
)
removes = st.tuples(st.just("remove"), st.lists(st.integers(0, 60), max_size=25), st.booleans())
ops = st.lists(
    st.one_of(
        adds,
        adds,
        removes,
        st.tuples(st.just("pop")),
        st.tuples(st.just("columns")),  # builds the cached columns that removals must then cut
        st.tuples(st.just("again")),  # an id queued a second time (the scan fallback)
    ),
    max_size=80,
)


def check(q: PendingQueue, ref: Reference, ctx: Context) -> None:
    items = ref.items()
    assert len(q) == len(items)
    assert [id(w) for w in q.items()] == [id(w) for w in items]
    assert [id(w) for w in q.ordered(ctx)] == [id(w) for w in ref.ordered(ctx)]
    assert q.cpuless == sum(1 for w in items if w.cpus == 0)
    assert decoded(q.columns()) == decoded(ref.columns())
    head = q.head()
    assert head is (items[0] if q.order.static and items else None)
    for job_id, w in ref.by_id.items():
        assert q.get(job_id) is w
    assert q.ends_with(items[len(items) // 2 :])


@pytest.mark.parametrize("name", list(ORDERS))
@settings(max_examples=150, deadline=None)
@given(steps=ops, del_each=st.sampled_from([0, 2, 16]), scan_share=st.sampled_from([0, 8, 10**9]))
def test_queue_matches_a_reference_model(
    name: str, steps: list[tuple[object, ...]], del_each: int, scan_share: int
) -> None:
    """``del_each``: removals above it rebuild the list's tail instead of deleting each job in place;
    ``scan_share``: removals of more than 1/scan_share of the queue scan it (0: never, 10**9: always)."""
    saved = queue_module._DEL_EACH, queue_module._SCAN_SHARE
    queue_module._DEL_EACH, queue_module._SCAN_SHARE = del_each, scan_share
    try:
        run(ORDERS[name], steps)
    finally:
        queue_module._DEL_EACH, queue_module._SCAN_SHARE = saved


def run(order: QueueSort, steps: list[tuple[object, ...]]) -> None:
    q, ref = PendingQueue(order), Reference(order)
    ctx = Context(now=NOW, total_cpus=8)
    used: set[int] = set()
    next_id = 0
    for op in steps:
        if op[0] == "add":
            _, seq, submit, procs, cpuless, user, estimate = op
            assert isinstance(seq, int)
            while seq in used:  # seqs are unique within a queue
                seq += 401
            used.add(seq)
            w = item(next_id, seq, submit, procs, cpuless, user, estimate)  # type: ignore[arg-type]
            next_id += 1
            q.add(w)
            ref.add(w)
        elif op[0] == "remove":
            present = [w.spec.job_id for w in ref.items()]
            picks = op[1]
            assert isinstance(picks, list)
            ids = {present[i % len(present)] for i in picks} if present else set()
            if op[2]:
                ids.add(10_000 + next_id)  # not queued: ignored
            q.remove(ids)
            ref.remove(ids)
        elif op[0] == "pop" and ref.entries:
            q.pop_head()
            ref.pop_head()
        elif op[0] == "columns":
            q.columns()
        elif op[0] == "again" and ref.entries:
            old = ref.items()[-1]
            seq = max(used) + 1
            used.add(seq)
            w = item(old.spec.job_id, seq, 0, 1, old.cpus == 0, 0, 5)
            q.add(w)
            ref.add(w)
        check(q, ref, ctx)


def test_removal_keeps_the_cached_columns_in_step() -> None:
    q = PendingQueue(Wfp3())
    ws = [item(i, i, i, 1 + i % 3, i % 4 == 0, i % 3, 10) for i in range(200)]
    for w in ws:
        q.add(w)
    assert len(q.columns().seq) == 200
    gone = set(range(0, 40, 2)) | {7}
    # found by bisection, and the tail rebuilt rather than each job deleted in place
    assert len(gone) > queue_module._DEL_EACH and len(gone) * queue_module._SCAN_SHARE <= len(q)
    q.remove(gone)
    q.add(item(200, 200, 200, 1, False, 0, 10))  # appended: the columns are extended, not rebuilt
    kept = [w for w in ws if w.spec.job_id not in gone]
    assert q.columns().seq.tolist() == [w.seq for w in kept] + [200]
    assert [w.seq for w in q.items()] == [w.seq for w in kept] + [200]
    assert q.cpuless == sum(1 for w in kept if w.cpus == 0)
    q.remove({1, 9999})
    assert q.columns().seq.tolist()[:2] == [3, 5]
    assert q.get(1) is None and q.get(3) is kept[1]


def test_equal_key_and_seq_still_removes_the_right_job() -> None:
    q = PendingQueue(Fcfs())
    a, b = item(1, 5, 0, 1, False, 0, 10), item(2, 5, 0, 1, False, 1, 10)  # appended: equal (key, seq) allowed
    rest = [item(i, i, 1, 1, False, 0, 10) for i in range(10, 30)]
    for w in (a, b, *rest):
        q.add(w)
    q.remove({2})
    assert q.items() == [a, *rest] and q.get(2) is None and q.get(1) is a
