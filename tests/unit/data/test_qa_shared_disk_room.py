"""QA LOW-8: node caches on one filesystem (examples/local-cluster.toml's layout) share its free bytes. A copy the
disk lacks room for only because other nodes' running jobs hold it waits (CacheFull, pinned: CacheWait) instead of
failing with ENOSPC; one the disk could not hold even with all of that gone still fails; and a copy under way in
another cache counts as not free yet. Real folders on the test's own filesystem; the large sizes are only counted."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from hal.data.cache import CacheFull, CacheWriteError, NodeCache


def _two(tmp_path: Path) -> tuple[NodeCache, NodeCache, int]:
    free = shutil.disk_usage(tmp_path).free
    caches = {n: NodeCache(n, tmp_path / "cache" / n, 4 * free) for n in ("vn000", "vn001")}  # above the disk
    for cache in caches.values():
        cache.kin = caches
    return caches["vn000"], caches["vn001"], free


def test_room_other_nodes_running_jobs_hold_on_the_shared_disk_is_waited_for(tmp_path: Path) -> None:
    busy, cache, free = _two(tmp_path)
    busy.entries["d1"] = free // 2  # counted as if on the disk: the disk lacks it for the next copy
    busy.pin("d1", 1)
    with pytest.raises(CacheFull) as got:
        cache.make_room(free * 13 // 10, reserve="d2")  # short by 0.3 of the disk, 0.5 of it held by job 1
    assert got.value.pinned and "vn000" in str(got.value), got.value
    assert "d2" not in cache.reserved
    with pytest.raises(CacheWriteError) as never:  # short by more than job 1 holds: no wait brings it
        cache.make_room(free * 16 // 10, reserve="d3")
    assert never.value.errno == errno.ENOSPC
    told: list[str] = []
    busy.on_stale = lambda name, why: told.append(why)
    busy.unpin_job(1)  # job 1 ended: its input, unpinned, is evicted for vn001's copy (one disk, one LRU cache)
    cache.make_room(free * 13 // 10, reserve="d2")
    assert "d1" not in busy.entries and told and "evicted for a copy on vn001" in told[0], told


def test_a_copy_under_way_in_another_cache_on_the_disk_is_not_free_room(tmp_path: Path) -> None:
    other, cache, free = _two(tmp_path)
    other.make_room(free * 6 // 10, reserve="d1")  # vn000's copy has yet to write it
    with pytest.raises(CacheFull) as got:  # both fit alone, not together: the second waits, none fails mid-copy
        cache.make_room(free * 6 // 10, reserve="d2")
    assert got.value.pinned
    other.unreserve("d1")
    cache.make_room(free * 6 // 10, reserve="d2")


def test_caches_on_other_filesystems_or_of_another_server_are_not_counted(tmp_path: Path) -> None:
    busy, cache, free = _two(tmp_path)
    busy.entries["d1"] = free // 2
    busy.pin("d1", 1)
    cache.kin = {"vn001": cache}  # not told of vn000 (another server's caches on the same disk)
    with pytest.raises(CacheWriteError):
        cache.make_room(free * 13 // 10, reserve="d2")
