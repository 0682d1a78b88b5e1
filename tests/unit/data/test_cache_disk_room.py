"""QA: a copy into a cache whose filesystem could not hold it even with every evictable dataset gone (cache_bytes
set above the disk's size) evicted the node's other datasets first, then failed with ENOSPC all the same. The
cache now refuses it before evicting anything. Real files on the test's own filesystem: the copy asked for is
larger than that filesystem's free bytes (only counted, never written), under a cache_bytes large enough that
the cache's own count would make room by evicting."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from hal.data.cache import CacheFull, CacheWriteError, NodeCache


def _cache(tmp_path: Path, size: int) -> NodeCache:
    cache = NodeCache("vn002", tmp_path / "cache", size)  # cache_bytes: just the copy, so the count must evict
    old = cache.path_of("old")
    old.write_bytes(b"x" * 4096)
    cache.add("old", 4096)
    return cache


def test_a_copy_the_disk_cannot_hold_evicts_nothing(tmp_path: Path) -> None:
    size = shutil.disk_usage(tmp_path).free + 2**30  # more than the disk could give, even with "old" evicted
    cache = _cache(tmp_path, size)
    with pytest.raises(CacheWriteError) as got:
        cache.make_room(size, reserve="big")
    assert got.value.errno == errno.ENOSPC
    assert "old" in cache.entries and cache.path_of("old").exists()  # not evicted for a copy that cannot land
    assert "big" not in cache.reserved


def test_a_copy_the_disk_can_hold_still_evicts_by_cache_bytes(tmp_path: Path) -> None:
    cache = _cache(tmp_path, 8192)
    assert cache.make_room(8192, reserve="new") == ["old"]  # the cache's own limit: least recently used out
    assert cache.reserved == {"new": 8192}


def test_an_output_moved_in_is_not_refused_for_disk_room(tmp_path: Path) -> None:
    """A job's output kept in the cache is already on its disk: no free bytes are needed for it."""
    size = shutil.disk_usage(tmp_path).free + 2**30
    cache = _cache(tmp_path, size)
    assert cache.make_room(size) == ["old"]


def test_bytes_already_on_the_disk_are_counted_whatever_it_has_free(tmp_path: Path) -> None:
    """A job's kept outputs (hal/data/kept_room.py) are on the disk already: their count never fails with ENOSPC,
    and ``hold`` counts them when no room can be made."""
    size = shutil.disk_usage(tmp_path).free + 2**30
    cache = _cache(tmp_path, size)
    assert cache.make_room(size, reserve=".jobs/7", written=True) == ["old"]
    assert cache.reserved == {".jobs/7": size}
    cache.hold(".jobs/8", 5)
    assert cache.reserved[".jobs/8"] == 5


def test_a_copy_refused_for_kept_outputs_says_so(tmp_path: Path) -> None:
    cache = NodeCache("vn002", tmp_path / "cache", 8192)
    cache.hold(".jobs/7", 8000)  # a failed job's outputs, kept
    with pytest.raises(CacheFull, match=r"held by failed outputs kept there \(8,000 bytes\)"):
        cache.make_room(4096, reserve="new")
