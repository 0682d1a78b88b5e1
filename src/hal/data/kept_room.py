"""Failed outputs kept in a node cache's job folders (``.jobs/<job>``, for ``[data] keep_failed_outputs``) count
against that cache's ``cache_bytes``. QA: a cache at 60M of 80M in ``hal nodes --long`` held 20M more on disk (a
stage-out cancelled), and kept outputs filled a small disk until a stage-in hit ENOSPC and drained the node.

Each ended job's folder is held in the cache as room reserved under the key ``.jobs/<job>`` (no dataset name starts
with '.'): ``used()`` and ``held()`` count it, so ``hal nodes`` shows it and staging has that much less room. Room
is made for it at once by evicting least recently used datasets that no job pins (logged, and dropped from the
catalog as any eviction): a dataset is a copy of data kept elsewhere, a kept output is its user's only copy, so the
kept output is never the one freed early. It stops counting when its folder goes (``keep_failed_outputs`` over,
the user removing it, a requeued job starting again), and the jobs waiting for cache room (``hal.data.cache_wait``)
are woken then: they slept out their back-off with the room free (QA).

Counted when a job's last output fails (``hal.data.outputs``) and on every pass of the cache folder watcher
(``hal.data.kept_sweep``), which also catches what no failure counted: a stage-out cancelled mid-way, folders a
restart kept. A pass walks the folders unlocked and takes the controller's lock only for a folder whose bytes
changed; a running job's folder, or one whose outputs are being staged out, is not counted (those move into the
cache as datasets)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hal.data.cache import CacheFull
from hal.data.cache_wait import wake_waiters
from hal.data.stager import JOBS

if TYPE_CHECKING:
    from hal.data.live import LiveStaging
    from hal.data.stager import Stager

log = logging.getLogger("hal.data")


def key_of(job_id: int) -> str:
    """The name a job folder's bytes are reserved under in its cache (never a dataset's: those cannot start '.')."""
    return f"{JOBS}/{job_id}"


def folder_bytes(folder: Path) -> int:
    """The bytes removing ``folder`` would free: each file once, and not those linked from outside it too (a
    cancelled job's folder still holds its inputs, hard links to the cached copies already counted)."""
    seen: dict[tuple[int, int], tuple[int, int]] = {}  # inode -> (links found here, size)
    for top, _, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(top, name))
            except OSError:  # removed meanwhile
                continue
            if not stat.S_ISREG(st.st_mode):  # a link takes no room worth counting
                continue
            found, _ = seen.get((st.st_dev, st.st_ino), (0, 0))
            seen[(st.st_dev, st.st_ino)] = (found + 1, st.st_size if found + 1 >= st.st_nlink else -1)
    return sum(size for _, size in seen.values() if size > 0)


def count_kept(stager: Stager, node: str, job_id: int, size: int | None = None) -> list[str]:
    """The job folder's bytes held in ``node``'s cache (none: its reservation dropped), room made for them by
    evicting unpinned datasets; the datasets evicted. Takes the stager's guard (the controller's lock)."""
    cache, key = stager.caches[node], key_of(job_id)
    if size is None:
        folder = stager.job_dir(node, job_id)
        size = folder_bytes(folder) if folder.is_dir() else 0
    gone: list[str] = []
    if cache.reserved.get(key) == (size or None):  # nothing to change: the controller's lock not taken
        return []
    with stager.guard():
        if cache.reserved.get(key) == (size or None):
            return []
        cache.unreserve(key)
        if size <= 0:
            return []
        try:  # room made first, so the reservation itself never refuses: the bytes are on disk already
            gone = cache.make_room(size, reserve=key, written=True)
        except CacheFull:  # more than unpinned datasets can make room for: counted all the same
            cache.hold(key, size)
        for name in gone:
            log.info("evicting %r from %s: room for job %s's kept outputs (%d bytes)", name, node, job_id, size)
            stager._record(f"evicting {name!r} from {node}", stager.catalog.remove_replica, name, node)
    return gone


def recount(staging: LiveStaging, controller: Any) -> int:
    """Every cache's ended jobs' folders counted again (``count_kept``), gone ones no longer; the number changed.
    Nothing before the start's ``resume`` (the outputs it is to stage out are not marked staging until then)."""
    if not staging.resumed.is_set():
        return 0
    changed = 0
    for node, cache in list(staging.stager.caches.items()):
        found = {}
        for folder in (cache.root / JOBS).glob("*") if (cache.root / JOBS).is_dir() else ():
            if folder.name.isdigit() and folder.is_dir() and not folder.is_symlink():
                found[int(folder.name)] = folder
        held = {int(k.split("/")[1]) for k in list(cache.reserved) if k.startswith(f"{JOBS}/")}
        for job_id in sorted(held | set(found)):
            size = 0
            if job_id in found and not _busy(staging, controller, job_id):
                size = folder_bytes(found[job_id])
            if cache.reserved.get(key_of(job_id)) == (size or None):
                continue  # unchanged: no lock taken
            with staging.stager.guard():  # looked at again: a job may have started, or begun staging out
                if size and _busy(staging, controller, job_id):
                    size = 0
                was = cache.reserved.get(key_of(job_id), 0)
                count_kept(staging.stager, node, job_id, size)
                if cache.reserved.get(key_of(job_id), 0) < was:  # room freed: jobs waiting for it try again now
                    wake_waiters(staging, controller)
                    controller.wake.set()
            changed += 1
    return changed


def _busy(staging: LiveStaging, controller: Any, job_id: int) -> bool:
    """Running (its folder is its $HAL_DATA) or staging an output out (moving into the cache as a dataset)."""
    if job_id in controller.live:
        return True
    outputs = staging.outputs
    return outputs is not None and "staging" in outputs.state_of(job_id).values()
