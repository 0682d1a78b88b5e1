"""The session manager beside the live controller: slots from the controller's own engine (one queue, one
fair-share ledger for batch and HTC), REST routes for sessions and applications, and per-session metrics.

The manager loop runs in a thread of `hal server`; tasks never touch the controller, its database or its REST
API. The controller only sees slot jobs: it calls ``on_cycle`` after each cycle (one added line in
Controller.run_cycle), and every call from the manager thread takes the controller's lock.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hal.htc import tickets
from hal.htc.address import home_address
from hal.htc.app import AppRegistry
from hal.htc.client import HtcClient
from hal.htc.engine_slots import SchedulerSlots
from hal.htc.server import Server
from hal.htc.slots import Retire, SlotAsk, SlotEvent
from hal.model.resources import Resources

log = logging.getLogger("hal.htc")
COUNTERS = ("submitted", "done", "failed", "cancelled", "retried", "requeued", "running", "prefetched", "queued")


class ControllerSlots(SchedulerSlots):
    """Slots as jobs in the controller's Scheduler; grants arrive through ``on_cycle``."""

    def __init__(self, ctl: Any) -> None:
        super().__init__(ctl.sched, clock=ctl.clock, owns_cycle=False, cores=None)
        self.ctl = ctl
        self.lock = ctl.lock
        self.wake: Any = None  # the manager loop's bell, rung when grants or reclaims are ready
        self.retiring: set[int] = set()  # slots on drained nodes told to finish and go back

    def ask(self, asks: Sequence[SlotAsk]) -> None:
        with self.lock:
            super().ask(asks)
        self.ctl.wake.set()  # a cycle soon, so new slot jobs are granted without waiting for the timer

    def release(self, slot: int) -> None:
        with self.lock:
            super().release(slot)
            self.retiring.discard(slot)
        self.ctl.wake.set()

    def poll(self) -> list[SlotEvent]:
        with self.lock:
            return super().poll()

    def stats(self) -> dict[str, int]:
        with self.lock:
            return super().stats()

    def never(self, per_slot: Resources) -> str | None:
        with self.lock:
            return super().never(per_slot)

    def close(self) -> None:
        with self.lock:
            super().close()

    def take_devices(self, slot: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The controller's machine picks the slot's CPU slots and GPUs on its node, as for a batch job, so batch
        jobs never get the cores or GPUs of a running service instance, and the instance is pinned to them."""
        machine = self.ctl.machine
        alloc = self.sched.running[slot].alloc
        shares = machine.shares(machine.assign(slot, alloc), alloc.amounts)
        cpus = tuple(sorted({c for share in shares for c in share.cpus}))
        return cpus, tuple(sorted({g for share in shares for g in share.gpus}))

    def free_cores(self, slot: int) -> None:
        self.ctl.machine.release(slot)

    def on_cycle(self, plan: Any) -> Any:
        """With the controller's lock held: slot starts become grants; a waiting batch job that outranks HTC
        slots reclaims them and starts in the same pass. Returns the plan of batch starts only."""
        from hal.engine.plan import Plan

        batch = [p for p in plan.starts if p.job_id not in self.keys]
        slots = [p for p in plan.starts if p.job_id in self.keys]
        if slots:
            self.on_plan(Plan(plan.now, slots))
        if self.preempt and self._preempt(plan.now):
            plan = self.sched.cycle(plan.now)
            batch += [p for p in plan.starts if p.job_id not in self.keys]
            slots = [p for p in plan.starts if p.job_id in self.keys]
            if slots:
                self.on_plan(Plan(plan.now, slots))
        self._retire_drained()
        if self._events and self.wake is not None:
            self.wake()  # reclaimed instances stop before the batch job's processes get going
        return Plan(plan.now, batch, plan.reservations, plan.reasons)

    def _retire_drained(self) -> None:
        """Slots on nodes an administrator drained finish their tasks and go back (QA: a drained node's warm
        instances kept taking new tasks, and the node stayed `drng` as long as the session lived)."""
        drained, names = self.ctl.drained, self.ctl.table.names
        if not drained:
            return
        for slot, (pool, _) in self.counts.held.items():
            if slot in self.retiring or slot not in self.sched.running:
                continue
            nodes = [names[int(i)] for i in self.sched.running[slot].alloc.nodes]
            gone = [n for n in nodes if n in drained]
            if gone:
                self.retiring.add(slot)
                self._events.append(Retire(slot, pool, f"node {gone[0]} drained"))


class HtcService:
    """Owns the manager thread; ``mount`` adds the REST routes, ``collector`` feeds /metrics."""

    def __init__(self, ctl: Any, home: Path) -> None:
        self.provider = ControllerSlots(ctl)
        self.address = home_address(home)
        registry = AppRegistry(home / "htc-apps.json")
        self.key = tickets.new_key()  # users are told apart by tickets, not by the Unix user every job runs as
        self.server = Server(self.address, registry, self.provider, journal=home / "htc-journal.db", key=self.key)
        self.provider.wake = self.server.wake
        ctl.htc = self.provider
        self.thread = threading.Thread(target=self.server.serve_forever, name="hal-htc", daemon=True)
        self.thread.start()
        atexit.register(self.stop)

    def stop(self) -> None:
        self.server.stopping = True
        self.thread.join(timeout=10)

    def client(self, user: str | None = None) -> HtcClient:
        """The server's own (REST, metrics): an administrator's ticket, so it sees every session."""
        who = user or "root"
        return HtcClient(self.address, user=user, ticket=(who, True, self.ticket(who, True)))

    def ticket(self, user: str, admin: bool) -> str:
        """What GET /v1/htc hands a token's holder: their sessions, and only theirs (an administrator's: any)."""
        return tickets.ticket(self.key, user, admin)

    def mount(self, app: Any) -> None:
        from hal.htc.rest import add_routes

        add_routes(app, self)

    def collector(self) -> Any:
        return HtcCollector(self)


class HtcCollector:
    """Prometheus metrics read from the manager at scrape time: per-session counters, slots, instances, and the
    totals since the manager started as counters (hal_htc_tasks_done_total...: they were gauges, so rate() and
    increase() could not be used on them and a restart's reset read as a drop)."""

    def __init__(self, service: HtcService) -> None:
        self.service = service

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        try:
            st = self.service.client().stats()
        except (OSError, EOFError, RuntimeError):
            return
        labels = ["session", "app", "user"]
        tasks = GaugeMetricFamily(
            "hal_htc_session_tasks", "Tasks of live HTC sessions by counter", labels=[*labels, "counter"]
        )
        rate = GaugeMetricFamily("hal_htc_session_tasks_per_second", "Recent task rate of a session", labels=labels)
        slots = GaugeMetricFamily("hal_htc_session_slots", "Service instances serving a session", labels=labels)
        for r in st["sessions"]:
            if r["state"] not in ("open", "detached"):
                continue
            key = [str(r["session"]), r["app"], r["user"]]
            for c in COUNTERS:
                tasks.add_metric([*key, c], float(r[c]))
            rate.add_metric(key, float(r["tasks_per_s"]))
            slots.add_metric(key, float(r["slots"]))
        yield tasks
        yield rate
        yield slots
        yield GaugeMetricFamily("hal_htc_instances", "Live HTC service instances", value=float(st["instances"]))
        held = GaugeMetricFamily("hal_htc_slots", "HTC slots by state", labels=["state"])
        held.add_metric(["held"], float(st["slots"]["held"]))
        held.add_metric(["pending"], float(st["slots"]["pending"]))
        yield held
        for name, value in st["totals"].items():
            yield CounterMetricFamily(
                f"hal_htc_{name}", f"HTC {name.replace('_', ' ')} since start", value=float(value)
            )


class Disabled:
    """What `hal server` gets when the session manager cannot start: batch work goes on, HTC routes say why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def mount(self, app: Any) -> None:
        from fastapi import FastAPI, HTTPException

        api: FastAPI = app

        @api.get("/v1/htc")
        def unavailable() -> None:
            raise HTTPException(503, f"HTC sessions are unavailable: {self.reason}")


def start(ctl: Any, home: Path, metrics: Any = None) -> HtcService | Disabled:
    """Called by `hal server` once the controller exists: the manager thread, and its gauges in /metrics."""
    try:
        service = HtcService(ctl, home)
    except OSError as exc:
        log.error("HTC session manager not started: %s", exc)
        return Disabled(str(exc))
    if metrics is not None:
        metrics.registry.register(service.collector())
    return service
