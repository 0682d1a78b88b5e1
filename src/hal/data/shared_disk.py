"""Node caches on one filesystem (the default layout: every cache folder under one folder) share its free bytes: what
the others' copies under way have yet to write is not free, and what their running jobs hold will be (QA LOW-8)."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from hal.data.cache import NodeCache

T = TypeVar("T")


def neighbours(cache: NodeCache) -> list[NodeCache]:
    """The other caches of its server (``cache.kin``) whose folders sit on its filesystem; none when it cannot be
    asked. A cache whose folder is unusable since start holds nothing there (it is left out)."""
    if not cache.kin:
        return []
    try:
        device = os.stat(cache.root).st_dev
    except OSError:
        return []
    found = []
    for other in list(cache.kin.values()):
        if other is cache or other.fault is not None:
            continue
        with contextlib.suppress(OSError):
            if os.stat(other.root).st_dev == device:
                found.append(other)
    return found


def coming(cache: NodeCache) -> int:
    """Bytes the other caches' copies under way on its filesystem have yet to write: not in its free bytes yet (a
    copy on each of two nodes that each fit, but not both, both began, and one filled the disk mid-copy)."""
    return sum(_calm(other.to_come) for other in neighbours(cache))


def held_beside(cache: NodeCache) -> tuple[int, list[str]]:
    """Bytes on its filesystem that the other caches' running jobs hold (pinned inputs, copies under way, failed
    outputs kept): room that comes back once those jobs end, with the nodes holding some. Read without the other
    caches' locks (this cache's is held: two caches asking each other must not deadlock); a snapshot."""
    total, nodes = 0, []
    for other in neighbours(cache):
        held = _calm(other.held_now)
        if held > 0:
            total += held
            nodes.append(other.node)
    return total, nodes


def _calm(read: Callable[[], T]) -> T:
    """``read`` again while another thread changed the dicts it iterates (RuntimeError); a snapshot is enough."""
    for _ in range(9):
        with contextlib.suppress(RuntimeError):
            return read()
    return read()


def evictable_beside(cache: NodeCache) -> int:
    """Bytes of the other caches' datasets on its filesystem that no running job pins: its copy may evict them."""
    total = 0
    for other in neighbours(cache):
        total += _calm(functools.partial(_unpinned, other))
    return total


def _unpinned(cache: NodeCache) -> int:
    pins = {name for name, holders in dict(cache.pins).items() if holders}
    return sum(n for name, n in dict(cache.entries).items() if name not in pins)


def evict_beside(cache: NodeCache, short: int) -> list[tuple[NodeCache, str]]:
    """The other caches' unpinned datasets on its filesystem evicted, least recently used first in each, until the
    disk lacks no more (``cache``'s lock held; each other's taken only if free, so two caches never wait on each
    other: one busy is passed over, and a copy short of room fails mid-copy and evicts again)."""
    gone: list[tuple[NodeCache, str]] = []
    for other in neighbours(cache):
        if short <= 0:
            break
        if not other._lock.acquire(blocking=False):
            continue
        try:
            names, short = other.evict_unpinned(short)
        finally:
            other._lock.release()
        gone += [(other, name) for name in names]
    return gone


def tell(cache: NodeCache, gone: list[tuple[NodeCache, str]]) -> None:
    """Each other cache told of its datasets evicted for ``cache``'s copy (``on_stale``: the catalog forgets them,
    or placement kept sending jobs to a node for a copy no longer there)."""
    for other, name in gone:
        if other.on_stale is not None:
            other.on_stale(name, f"{name!r} on {other.node} was evicted for a copy on {cache.node} (same disk)")
