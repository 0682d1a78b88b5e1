"""Slots as jobs in a real Scheduler: grants, leases, release, and preemption by a higher-priority batch job."""

from __future__ import annotations

from hal.htc.engine_slots import batch_spec, standalone_provider
from hal.htc.slots import Granted, Reclaimed, SlotAsk
from hal.model.resources import Resources


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


ONE = Resources(cpus=1)


def test_grants_up_to_capacity_then_the_rest_waits() -> None:
    clock = Clock()
    p = standalone_provider(4, clock=clock)
    p.ask([SlotAsk("app", "alice", ONE, 6)])
    events = p.poll()
    assert len([e for e in events if isinstance(e, Granted)]) == 4
    assert p.stats()["held"] == 4 and p.stats()["pending"] == 2
    slot = events[0].slot
    p.release(slot)
    clock.now += 0.1
    assert len(p.poll()) == 1  # the freed CPU goes to a waiting slot job
    p.ask([SlotAsk("app", "alice", ONE, 2)])  # fewer wanted: pending ones are withdrawn, held ones stay
    assert p.stats() == {"held": 4, "pending": 0, "preempted": 0, "batch_running": 0}


def test_leases_are_renewed_so_held_slots_never_expire() -> None:
    clock = Clock()
    p = standalone_provider(2, clock=clock, lease=10.0)
    p.ask([SlotAsk("app", "alice", ONE, 2)])
    p.poll()
    for _ in range(10):
        clock.now += 4.0
        p.poll()
    assert p.sched.book.free_cpus() == 0 and p.stats()["held"] == 2


def test_high_priority_batch_job_reclaims_just_enough_slots() -> None:
    clock = Clock()
    p = standalone_provider(4, clock=clock)
    p.ask([SlotAsk("app", "alice", ONE, 4)])
    assert len(p.poll()) == 4
    started: list[int] = []
    p.on_batch_start = lambda placement: started.append(placement.job_id)
    jid = p.submit_batch(batch_spec(p, Resources(cpus=3), "bob", "high", 5.0), 5.0)
    clock.now += 0.1
    events = p.poll()
    reclaimed = [e for e in events if isinstance(e, Reclaimed)]
    assert len(reclaimed) == 3 and all(f"job {jid}" in e.reason for e in reclaimed)
    assert started == [jid] and p.stats()["held"] == 1
    p.ask([SlotAsk("app", "alice", ONE, 4)])  # the manager still wants 4: three wait behind the batch job
    clock.now += 6.0
    assert len([e for e in p.poll() if isinstance(e, Granted)]) == 3
    assert p.batch_done and p.batch_done[0][0] == jid


def test_low_priority_batch_job_waits_for_slots() -> None:
    clock = Clock()
    p = standalone_provider(2, clock=clock)
    p.ask([SlotAsk("app", "alice", ONE, 2)])
    p.poll()
    p.submit_batch(batch_spec(p, Resources(cpus=1), "bob", "low", 5.0), 5.0)
    clock.now += 0.1
    assert p.poll() == [] and p.stats()["preempted"] == 0
