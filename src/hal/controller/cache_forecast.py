"""Start forecasts of jobs waiting for cache room (CacheWait, hal/data/cache_wait.py). Such a job is held until its
next retry, but it starts only once the running jobs pinning its nodes' caches have freed enough room (they wake
it when they end): forecast on the retry alone, it was shown starting seconds later, when it could not. In a
forecast's clone it depends on the jobs whose ends free the room (so every forward run starts it after them);
when one of those has no known end (no time limit, and the predictor no history: a run assumed), or too few of
its nodes have a cache, or its inputs exceed one, it gets none, and the reason (`hal explain` prints it). Room a
failed stage-out's kept output holds (hal/data/kept_until.py) frees at its keep window's end, not at any job's: the
job is held until then in the clone (QA: it was forecast seconds away while the room stayed held for 7 days)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hal.data.cache_wait import WAIT_CAUSE
from hal.data.kept_until import Kept, kept_on
from hal.engine.cycle import Scheduler
from hal.engine.predict.basic import DEFAULT_LIMIT
from hal.model.job import Dependency, DependencyKind


@dataclass(frozen=True, slots=True)
class Room:
    """When a node's cache has room for a job's inputs (inf: never known) and whose ends free it; ``why`` says
    why it is not known (inf only), ``kept`` which kept outputs' room it waits for."""

    when: float
    after: frozenset[int]
    why: str = ""
    kept: tuple[Kept, ...] = ()  # kept outputs whose room it waits for: it cannot start before the last frees


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
            continue
        spec = item.spec
        if room.after:
            deps = tuple(Dependency(DependencyKind.AFTERANY, j) for j in sorted(room.after) if j in snap.known)
            spec = replace(spec, dependencies=(*spec.dependencies, *deps))
        if room.kept:  # no job's end frees that room: held until the sweep removes the kept outputs
            spec = replace(spec, begin_time=max(spec.begin_time or 0.0, max(k.until for k in room.kept)))
        snap.held[jid] = replace(item, spec=spec)
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
        caches = {n: stager.caches[n] for n in nodes if n in stager.caches}
        found = [node_room(c, sizes, end, now, kept_on(ctl, n, c, now)) for n, c in caches.items()]
    rooms = sorted(found, key=lambda r: r.when)
    need = max(item.spec.nodes or 1, 1)
    if len(rooms) < need:
        return Room(
            math.inf, frozenset(), f"only {len(rooms)} of the nodes it may use have a node cache; it needs {need}"
        )
    chosen = rooms[:need]
    kept = tuple(k for r in chosen for k in r.kept)
    return Room(chosen[-1].when, frozenset().union(*(r.after for r in chosen)), chosen[-1].why, kept)


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


def node_room(
    cache: Any, sizes: dict[str, int], end: Callable[[int], float], now: float, kept: list[Kept] | None = None
) -> Room:
    """When ``cache`` has room for the ``sizes`` inputs (all of them pinned together) as its pinning jobs end in
    order of their planned ends and its ``kept`` outputs' windows run out, and the jobs ended and kept outputs
    removed by then. Inputs cached already count as the job's own."""
    held: list[tuple[int, frozenset[int]]] = []
    for name, holders in cache.pins.items():
        size = cache.entries.get(name, cache.reserved.get(name))
        if holders and name not in sizes and size is not None:
            held.append((int(size), frozenset(holders)))
    kept = kept or []
    need = sum(sizes.values())
    if cache.capacity - sum(size for size, _ in held) - sum(k.size for k in kept) >= need:
        return Room(now, frozenset())
    frees: list[tuple[float, int, Kept | None]] = [(end(j), j, None) for j in {j for _, hs in held for j in hs}]
    frees += [(k.until, k.job_id, k) for k in kept]
    frees.sort(key=lambda f: (f[0], f[1]))
    gone: set[int] = set()
    removed: list[Kept] = []
    for when, job_id, out in frees:
        if not math.isfinite(when):
            return Room(math.inf, frozenset(), _never(job_id, out), tuple(removed))
        if out is None:
            gone.add(job_id)
        else:
            removed.append(out)
        left = sum(size for size, holders in held if not holders <= gone) + sum(
            k.size for k in kept if k not in removed
        )
        if cache.capacity - left >= need:
            return Room(when, frozenset(gone), "", tuple(removed))
    return Room(math.inf, frozenset(), "its inputs do not fit in a node's cache even once the jobs pinning it end")


def _never(job_id: int, out: Kept | None) -> str:
    """Why the room never frees as far as is known: a pinning job with no known end, or outputs kept for good."""
    if out is not None:
        freed = f"hal dataset rm-kept {out.job_id}, by that job's user or an administrator"
        return f"it starts once the room held by {out.words()} is freed ({freed})"
    return f"it starts once jobs pinning its nodes' caches end; job {job_id} has no time limit and no history"


def cache_why(ctl: Any, job_id: int, now: float) -> str | None:
    """What holds the room a job waiting for cache room (CacheWait) waits for, in words, when failed outputs kept
    in node caches do (hal show's Why=, hal explain: it said "running jobs' inputs" with nothing running); None
    for room running jobs' inputs hold. Under the controller's lock, on its scheduler (no clone)."""
    item = ctl.sched.held.get(job_id)
    if getattr(ctl, "staging", None) is None or item is None:
        return None
    room = room_for(ctl.sched, ctl, item, now)
    if not room.kept:
        return None
    held = "; ".join(k.words() for k in room.kept)
    return f"the room its --input-data need in the node caches is held by {held}; it starts once that is removed"
