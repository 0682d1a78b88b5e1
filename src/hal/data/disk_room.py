"""A stage-in copy whose node's disk filled under it (another writer took its room: a running job's scratch in its
$HAL_DATA) while evicting unpinned datasets would free enough: they are evicted and it copies again. Such an ENOSPC
is no fault of the node's (QA: the node was drained, "data cache unusable", and the job held for an administrator);
one eviction cannot fix is raised as before (hal/data/node_faults.py tells a disk too small from a broken one)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hal.data.cache import DISK_FULL, CacheWriteError, NodeCache, local_write
from hal.data.catalog import Dataset, Replica

if TYPE_CHECKING:
    from hal.data.stager import Stager

log = logging.getLogger("hal.data")


def copy_evicting(stager: Stager, dataset: Dataset, rep: Replica, cache: NodeCache, job_id: int) -> int:
    """``stager._copy``, copied again after each full disk that evicting frees; each retry evicts at least one
    dataset, so it ends. A disk full of other nodes' running jobs' data (their caches on the same filesystem: the
    stager's caches are the cache's ``kin``) is CacheFull, waited for (QA LOW-8)."""
    cache.kin = stager.caches
    while True:
        try:
            return stager._copy(dataset, rep, cache, job_id)
        except CacheWriteError as exc:
            if exc.errno not in DISK_FULL:
                raise
            with stager.guard():  # evictions delete files: a read-only cache fails here
                gone = local_write(cache.root, cache.evict_for_disk, dataset.size, dataset.name)
                for name in gone:
                    stager._record(f"evicting {name!r} from {cache.node}", stager.catalog.remove_replica, name,
                                   cache.node)  # fmt: skip
            if not gone and not cache.trash.busy():  # trash still being deleted: the next copy waits for it
                with stager.guard():
                    full = cache.full_mid_copy(dataset.size, dataset.name)
                if full is not None:
                    raise full from exc
                raise
            log.warning("%s: the disk filled while %r was copied; %s evicted, copying it again",
                        cache.node, dataset.name, ", ".join(map(repr, gone)))  # fmt: skip


def await_trash(stager: Stager, cache: NodeCache, dataset: Dataset, job_id: int) -> None:
    """Before a copy writes, outside the lock: the trash being deleted (its own evictions', or others') gone while the
    disk's real free bytes lack room for it (it failed with ENOSPC mid-way otherwise, and its node was drained)."""
    while cache.disk_waits(dataset.size, dataset.name):
        stager._check_stop(job_id)  # a cancel or a stopping server does not wait for it
        cache.trash.wait(0.5)
