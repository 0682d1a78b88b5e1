"""Each queue order's keys (smallest first) and the pending queue's ordering and ties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hal.engine.api import Context
from hal.engine.plugins.f1 import F1
from hal.engine.plugins.fcfs import Fcfs
from hal.engine.plugins.multifactor import Multifactor, MultifactorArgs
from hal.engine.plugins.sjf import Sjf
from hal.engine.plugins.unicep import Unicep
from hal.engine.plugins.wfp3 import Wfp3
from hal.engine.queue import PendingQueue, Waiting
from hal.engine.request import request_of
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace


def spec(jid: int, submit: float, procs: int = 1, **kw: object) -> JobSpec:
    return JobSpec(job_id=jid, submit_time=submit, tasks=procs, **kw)  # type: ignore[arg-type]


def keys(order: object, jobs: list[JobSpec], estimates: list[float], now: float = 0.0, **ctx: Any) -> list[float]:
    result = order.keys(jobs, np.array(estimates, dtype=np.float64), Context(now=now, **ctx))  # type: ignore[attr-defined]
    return [float(k) for k in result]


def test_fcfs_and_sjf() -> None:
    jobs = [spec(1, 30), spec(2, 10)]
    assert keys(Fcfs(), jobs, [5, 500]) == [30, 10]
    assert Fcfs().key(jobs[0], 5) == 30
    assert keys(Sjf(), jobs, [5, 500]) == [5, 500]
    assert Sjf().key(jobs[1], 500) == 500


def test_f1_formula() -> None:
    job = spec(1, 1000.0, procs=16)
    expected = math.log10(3600) * 16 + 870 * math.log10(1000)
    assert F1().key(job, 3600) == pytest.approx(expected)
    assert keys(F1(), [job], [3600]) == [pytest.approx(expected)]
    # zero estimate and submit time read as 0.1, so the logarithms stay finite
    assert F1().key(spec(2, 0.0, procs=2), 0.0) == pytest.approx(math.log10(0.1) * 2 + 870 * math.log10(0.1))


def test_wfp3_uses_the_intended_waiting_time() -> None:
    jobs = [spec(1, 0.0, procs=4), spec(2, 50.0, procs=1), spec(3, 200.0, procs=8)]
    got = keys(Wfp3(), jobs, [100.0, 10.0, 0.0], now=100.0)
    # w = now - submit: (100/100)^3 x 4, (50/10)^3 x 1; a job not yet waiting scores 0; estimates below 1 read as 1
    assert got == [pytest.approx(-4.0), pytest.approx(-125.0), 0.0]
    with pytest.raises(TypeError):
        Wfp3().key(jobs[0], 1.0)


def test_unicep_uses_the_intended_waiting_time() -> None:
    jobs = [spec(1, 0.0, procs=8), spec(2, 0.0, procs=1), spec(3, 40.0, procs=4)]
    got = keys(Unicep(), jobs, [10.0, 10.0, 0.5], now=100.0)
    # -w / (log2(max(procs, 2)) x max(estimate, 1))
    assert got == [pytest.approx(-100 / 30), pytest.approx(-100 / 10), pytest.approx(-60 / 2)]
    with pytest.raises(TypeError):
        Unicep().key(jobs[0], 1.0)


def test_multifactor_weighs_age_fairshare_size_and_nice() -> None:
    order = Multifactor(MultifactorArgs(weight_partition=0, weight_qos=0, max_age=1000.0))
    jobs = [
        spec(1, 0.0, procs=10, user="heavy"),
        spec(2, 500.0, procs=10, user="idle"),
        spec(3, 500.0, user="idle", nice=100),
    ]
    ctx: dict[str, Any] = {"usage": {"heavy": 100.0}, "total_usage": 100.0, "total_cpus": 10}
    prio = -np.array(keys(order, jobs, [1, 1, 1], now=1000.0, **ctx))
    # two users known -> share 0.5: heavy's factor is 2^(-1/0.5) = 0.25, idle's 1.0
    assert prio[0] == pytest.approx(1000 * 1.0 + 10000 * 0.25 + 1000 * 1.0)
    assert prio[1] == pytest.approx(1000 * 0.5 + 10000 * 1.0 + 1000 * 1.0)
    assert prio[2] == pytest.approx(1000 * 0.5 + 10000 * 1.0 + 1000 * 0.1 - 100)
    small = Multifactor(MultifactorArgs(favor_small=True, weight_age=0, weight_fairshare=0, weight_partition=0))
    assert keys(small, jobs[1:3], [1, 1], **ctx) == [pytest.approx(-0.0), pytest.approx(-900.0 + 100)]


def waiting(job: JobSpec, estimate: float, seq: int) -> Waiting:
    req = request_of(job, ResourceSpace())
    return Waiting(job, req, estimate, estimate, seq, req.total[0])


def test_static_queue_is_sorted_on_insert_with_submission_ties() -> None:
    q = PendingQueue(Sjf())
    for w in (
        waiting(spec(1, 0), 50, 1),
        waiting(spec(2, 1), 10, 2),
        waiting(spec(3, 2), 50, 3),
        waiting(spec(4, 3), 5, 4),
    ):
        q.add(w)
    assert [w.spec.job_id for w in q.items()] == [4, 2, 1, 3]
    head = q.head()
    assert head is not None and head.spec.job_id == 4
    q.pop_head()
    q.remove({1})
    assert [w.spec.job_id for w in q.ordered(Context())] == [2, 3]


def test_dynamic_queue_is_rekeyed_each_cycle() -> None:
    q = PendingQueue(Wfp3())
    q.add(waiting(spec(1, 0.0), 1000.0, 1))
    q.add(waiting(spec(2, 90.0), 1.0, 2))
    assert q.head() is None  # no static head: the order depends on the time
    assert [w.spec.job_id for w in q.ordered(Context(now=90.0))] == [1, 2]  # job 2 has not waited yet
    assert [w.spec.job_id for w in q.ordered(Context(now=100.0))] == [2, 1]
    assert len(q) == 2
