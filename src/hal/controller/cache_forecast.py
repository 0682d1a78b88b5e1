"""Start forecasts of jobs waiting for cache room (CacheWait, hal/data/cache_wait.py). Such a job is held until its
next retry, but it starts only once the running jobs pinning its nodes' caches have freed enough room (they wake
it when they end): forecast on the retry alone, it was shown starting seconds later, when it could not. In a
forecast's clone it depends on the jobs whose ends free the room (so every forward run starts it after them);
when one of those has no known end (no time limit, and the predictor no history: a run assumed), or too few of
its nodes have a cache, or its inputs exceed one, it gets none, and the reason (`hal explain` prints it)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hal.data.cache_wait import WAIT_CAUSE
from hal.engine.cycle import Scheduler
from hal.engine.predict.basic import DEFAULT_LIMIT
from hal.model.job import Dependency, DependencyKind


@dataclass(frozen=True, slots=True)
class Room:
    """When a node's cache has room for a job's inputs (inf: never known) and whose ends free it; ``why`` says
    why it is not known (inf only)."""

    when: float
    after: frozenset[int]
    why: str = ""


def wait_for_room(snap: Scheduler, ctl: Any, now: float) -> dict[int, str]:
    """Make the CacheWait jobs in ``snap`` (a forecast's clone; under the controller's lock) wait for the running
    jobs whose ends free their room; those with no known start (forecast N/A), each with why."""
    staging = getattr(ctl, "staging", None)  # a controller without a data plane has none
    if staging is None or not staging.cache_waits:
        return {}
    held = [j for j in staging.cache_waits if j in snap.held and j in ctl.live and ctl.live[j].state == "PENDING"]
    rows = {r["id"]: r for r in ctl.store.query(job_ids=held)} if held else {}
    waiting = [j for j in held if str(rows.get(j, {}).get("cause") or "") == WAIT_CAUSE]
    unknown: dict[int, str] = {}
    for jid in waiting:
        item = snap.held[jid]
        room = room_for(snap, ctl, item, now)
        if not math.isfinite(room.when):
            unknown[jid] = room.why
        elif room.after:
            deps = tuple(Dependency(DependencyKind.AFTERANY, j) for j in sorted(room.after) if j in snap.known)
            snap.held[jid] = replace(item, spec=replace(item.spec, dependencies=(*item.spec.dependencies, *deps)))
    return unknown


def room_for(snap: Scheduler, ctl: Any, item: Any, now: float) -> Room:
    """When enough of the nodes the job may use (as many as it asks for) have room for all its inputs, and the
    jobs whose ends give it. A guess as the data plane's own (hal/data/cache_wait.py, ``_room_for``)."""
    stager = ctl.staging.stager
    allowed = ctl.book.allowed(item.req)
    nodes = [n for i, n in enumerate(ctl.table.names) if allowed[i] and n not in ctl.drained]
    end = planned_end(snap, now)
    with stager.guard():
        sizes = {n: stager.catalog.datasets[n].size for n in item.spec.inputs if n in stager.catalog.datasets}
        found = [node_room(stager.caches[n], sizes, end, now) for n in nodes if n in stager.caches]
    rooms = sorted(found, key=lambda r: r.when)
    need = max(item.spec.nodes or 1, 1)
    if len(rooms) < need:
        return Room(
            math.inf, frozenset(), f"only {len(rooms)} of the nodes it may use have a node cache; it needs {need}"
        )
    chosen = rooms[:need]
    return Room(chosen[-1].when, frozenset().union(*(r.after for r in chosen)), chosen[-1].why)


def planned_end(snap: Scheduler, now: float) -> Callable[[int], float]:
    """A pinning job's planned end: now for one no longer running (its pin goes at the next end handling), inf
    for one with no known end (no limit, planned on the default run only because nothing better is known)."""

    def end(job_id: int) -> float:
        act = snap.running.get(job_id)
        if act is None:
            return now
        spec = act.item.spec
        if spec.time_limit is None and act.item.estimate == DEFAULT_LIMIT:
            return math.inf
        return max(act.predicted_end, now)

    return end


def node_room(cache: Any, sizes: dict[str, int], end: Callable[[int], float], now: float) -> Room:
    """When ``cache`` has room for the ``sizes`` inputs (all of them pinned together) as its pinning jobs end in
    order of their planned ends, and the jobs ended by then. Inputs cached already count as the job's own."""
    pinned: list[tuple[int, frozenset[int]]] = []
    for name, holders in cache.pins.items():
        size = cache.entries.get(name, cache.reserved.get(name))
        if holders and name not in sizes and size is not None:
            pinned.append((int(size), frozenset(holders)))
    need = sum(sizes.values())
    if cache.capacity - sum(size for size, _ in pinned) >= need:
        return Room(now, frozenset())
    gone: set[int] = set()
    for when, job_id in sorted({(end(j), j) for _, holders in pinned for j in holders}):
        if not math.isfinite(when):
            why = f"it starts once jobs pinning its nodes' caches end; job {job_id} has no time limit and no history"
            return Room(math.inf, frozenset(), why)
        gone.add(job_id)
        if cache.capacity - sum(size for size, holders in pinned if not holders <= gone) >= need:
            return Room(when, frozenset(gone))
    return Room(math.inf, frozenset(), "its inputs do not fit in a node's cache even once the jobs pinning it end")
