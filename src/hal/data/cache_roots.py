"""A node's cache folder removed behind HAL's back while the server runs (``rm -rf`` of it): QA found it still
"full" (``hal nodes --long`` showed its bytes used, ``hal dataset list`` its replicas) and unlocked (its
``.hal-owner.lock`` gone, so a second server could take it) until a job happened to touch those copies.

A daemon thread looks every ``CHECK_EVERY`` s whether each cache folder's lock file is still the one this server
holds (a stat per node: cheap). When it is not, the folder is made again with its lock, the copies it no longer
holds are forgotten (their entries and the catalog's replicas at that node), and one warning names the folder.
The check runs under the stager's guard (the controller's lock), as every other cache and catalog change does, so
it never interleaves with a copy's eviction or registration; a copy under way into the removed folder fails and
is tried again by its stage-in (a folder wiped under a copy is no node fault: ``hal.data.cache.NODE_FAULTS``).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hal.data.kept_sweep import sweep_kept
from hal.data.owner import CACHE_LOCK, owner_home, retake

if TYPE_CHECKING:
    from hal.data.live import LiveStaging

log = logging.getLogger("hal.data")

CHECK_EVERY = 30.0  # s between looks at the cache folders (read at each pass: tests make it small)


def watch_roots(staging: LiveStaging, controller: Any) -> threading.Thread:
    """Start the periodic check; it ends with the data plane (``stager.closing``, or its locks released)."""
    owned = staging.owned

    def run() -> None:
        while not staging.stager.closing.wait(CHECK_EVERY) and owned is not None and owned.handles:
            try:
                check_roots(staging, controller)
                sweep_kept(staging, controller)  # failed outputs past keep_failed_outputs: not only at a start
            except Exception:  # the next pass tries again; the server goes on
                log.exception("checking the node cache folders failed")

    thread = threading.Thread(target=run, name="hal-cache-roots", daemon=True)
    thread.start()
    return thread


def check_roots(staging: LiveStaging, controller: Any) -> list[str]:
    """Each cache whose folder (or lock file) went away made again and emptied of what it lost; the nodes."""
    owned, stager = staging.owned, staging.stager
    if owned is None or not owned.handles:
        return []
    held = {Path(h.name): h for h in owned.handles}
    reset = []
    for node, cache in stager.caches.items():
        lock = cache.root / CACHE_LOCK
        if cache.fault is not None and lock not in held:
            with stager.guard():
                _reopen(staging, controller, node, cache, lock)
            continue
        if lock not in held or _same(lock, held[lock].fileno()):
            continue
        with stager.guard():
            if not _same(lock, held[lock].fileno()):  # looked at again under the lock (a restart may re-own it)
                reset.append(node)
                _rebuild(staging, controller, node, cache, lock)
    return reset


def _same(lock: Path, fd: int) -> bool:
    """Whether the lock file at ``lock`` is the very file this server holds locked."""
    try:
        there, ours = os.stat(lock), os.fstat(fd)
    except OSError:
        return False
    return (there.st_dev, there.st_ino) == (ours.st_dev, ours.st_ino)


def _rebuild(staging: LiveStaging, controller: Any, node: str, cache: Any, lock: Path) -> None:
    stager = staging.stager
    try:
        cache.ready()  # a file in its place raises: the next stage-in there drains the node, saying so
    except OSError as exc:
        log.warning("cache folder %s of %s is gone and cannot be made again: %s", cache.root, node, exc)
        return
    gone = [name for name in list(cache.entries) if not os.path.lexists(cache.path_of(name))]
    for name in gone:
        cache.drop(name)
        cache.unverified.discard(name)
    listed = [n for n, reps in list(stager.catalog.replicas.items()) if node in reps]
    lost = [n for n in listed if Path(stager.catalog.replicas[n][node].uri) == cache.path_of(n)]
    for name in [n for n in lost if not os.path.lexists(cache.path_of(n))]:
        stager._record(f"dropping the replica of {name!r} on {node}", stager.catalog.remove_replica, name, node)
        gone.append(name)
    try:
        retake(staging.owned, lock, owner_home(controller))
    except (OSError, ValueError) as exc:  # DataPlaneBusy: another server took the new folder meanwhile
        log.error("cache folder %s of %s: could not lock it again: %s", cache.root, node, exc)
    names = sorted(set(gone))
    log.warning(
        "cache folder %s of %s was removed behind HAL's back: made again (with its lock %s); %s",
        cache.root, node, CACHE_LOCK,
        f"the copies it held are forgotten: {', '.join(names)}" if names else "it held no cached copy",
    )  # fmt: skip


def _reopen(staging: LiveStaging, controller: Any, node: str, cache: Any, lock: Path) -> None:
    """A cache folder unusable since start (hal/data/start_faults.py) tried again: once it can be made, locked and
    read, the cache serves again and the log says that ``hal resume`` puts the node back (its drain stays, as
    Slurm's does); else its fault is the latest error."""
    assert staging.owned is not None
    try:
        retake(staging.owned, lock, owner_home(controller))
        cache.reopen()
    except OSError as exc:
        cache.fault = exc
        return
    except ValueError as exc:  # DataPlaneBusy: another server took it meanwhile
        log.error("cache folder %s of %s: %s", cache.root, node, exc)
        return
    log.warning("cache folder %s of %s is usable again; hal resume %s puts the node back in service", cache.root,
                node, node)  # fmt: skip
