"""Two copies into one node cache at once each checked the disk's free bytes alone: each fit, both together did
not, and the second failed with ENOSPC mid-copy. A copy's disk check now counts the bytes the copies under way
have yet to write (their reservations less their ``.partial`` files so far), and a copy refused for them waits
(CacheFull, pinned: their datasets become evictable once their jobs end), no fault of the node's. Real files on
the test's own filesystem; the large sizes are only counted, never written."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from hal.data.cache import CacheFull, CacheWriteError, NodeCache


def test_a_second_copy_counts_the_bytes_the_first_has_yet_to_write(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    cache = NodeCache("vn000", tmp_path / "cache", 4 * free)  # cache_bytes above the disk
    cache.make_room(free * 6 // 10, reserve="first")
    with pytest.raises(CacheFull) as got:
        cache.make_room(free * 6 // 10, reserve="second")
    assert got.value.pinned and "beside the copies under way" in str(got.value)
    assert "second" not in cache.reserved
    with pytest.raises(CacheWriteError) as never:  # more than the disk holds even without the first: its fault
        cache.make_room(free * 12 // 10, reserve="third")
    assert never.value.errno == errno.ENOSPC
    cache.unreserve("first")  # the first copy failed or landed: its bytes are no longer to come
    cache.make_room(free * 6 // 10, reserve="second")


def test_bytes_a_copy_has_written_are_not_counted_twice(tmp_path: Path) -> None:
    cache = NodeCache("vn000", tmp_path / "cache", 10**9)
    cache.make_room(10_000, reserve="a.b")
    cache.make_room(7_000, reserve="a")
    (cache.root / ".a.b.3.partial").write_bytes(b"x" * 4096)  # on the disk already: in its free bytes
    tree = cache.root / ".a.4.partial"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_bytes(b"y" * 1000)
    assert cache.to_come() == (10_000 - 4096) + (7_000 - 1000)
    cache.make_room(500, reserve=".jobs/9", written=True)  # a job's kept outputs are on the disk
    assert cache.to_come() == (10_000 - 4096) + (7_000 - 1000)
