"""A node-local cache directory with a byte capacity and LRU eviction; in-use datasets are pinned."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import ParamSpec, TypeVar

from hal.data import shared_disk
from hal.data.job_links import META, Stamp, stamp_of
from hal.data.trash import Trash
from hal.data.tree import bytes_in

P = ParamSpec("P")
T = TypeVar("T")
_PARTIAL = re.compile(r"\.(.+)\.\d+\.partial")  # a copy under way (hal/data/stager.py): the dataset's name


class CacheFull(RuntimeError):
    """Not enough room even after evicting every unpinned dataset; ``pinned``: room would come back once the
    jobs holding the rest end (as opposed to a dataset larger than the whole cache)."""

    def __init__(self, message: str, pinned: bool = False) -> None:
        super().__init__(message)
        self.pinned = pinned


class CacheWriteError(OSError):
    """A copy could not be written into a node's own cache (a full or read-only disk, no permission, a file where
    its folder was): the node's fault, not the data's, so no other attempt or source helps there. ``node`` is
    set by the stager; the live data plane drains it, as Slurm drains a node whose prolog fails."""

    node = ""


# What a write into a cache answers when the cache itself is unusable; a folder wiped under a copy
# (FileNotFoundError) is not among them: the next attempt makes it again.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
NODE_FAULTS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOTDIR, errno.EEXIST}
)


def local_write(path: Path, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``call``, a write into a node cache at ``path``, its failures that are the cache's own (NODE_FAULTS) raised
    as CacheWriteError: told apart from the source's, which a retry or another replica may cure."""
    try:
        return call(*args, **kwargs)
    except CacheWriteError:
        raise
    except OSError as exc:
        if exc.errno not in NODE_FAULTS:
            raise
        raise CacheWriteError(exc.errno, exc.strerror, exc.filename or str(path)) from exc


class NodeCache:
    """Datasets as files or folders ``root/<name>``; least recently used first out, a folder as a whole. A job
    sees hard links to its inputs (a folder: its own folders mirroring it, hard links to the files) in its own
    folder ``root/.jobs/<job>`` (its $HAL_DATA), where it also writes its outputs."""

    def __init__(self, node: str, root: Path, capacity: int) -> None:
        self.node, self.root, self.capacity = node, Path(root), int(capacity)
        self.entries: OrderedDict[str, int] = OrderedDict()
        self.stamps: dict[str, tuple[int, ...]] = {}  # how it looked when HAL last wrote or used it (stamp_of)
        self.pins: dict[str, set[int]] = {}
        self.reserved: dict[str, int] = {}  # copies under way: room made for them, counted until they land
        # Files found at start: their checksums are checked once before a job first reads them (a cached copy
        # that changed while no server watched it, its size and mtime kept, was served as good).
        self.unverified: set[str] = set()
        self._lock = threading.RLock()
        self.on_stale: Callable[[str, str], None] | None = None  # told (name, why) when ``has`` drops a copy
        self.trash = Trash(self.root)  # evicted and dropped copies, deleted outside the controller's lock
        self.fault: OSError | None = None  # its folder unusable at start: the node drained (hal/data/start_faults.py)
        self.kin: Mapping[str, NodeCache] = {}  # its server's caches: those on its disk share it (shared_disk)
        try:
            self._open()
        except OSError as exc:  # one node's broken disk must not stop the server (as slurmd's does not slurmctld)
            self.fault = exc

    def _open(self) -> None:
        """Its folder made and read: copies cut short by a stopped controller (a half-copied tree too), never valid
        or counted, and trash a killed one left go to the deleting thread (not deleted on the start path); the
        datasets found are counted, a restart keeping the LRU order by mtime."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.trash.found()
        for p in self.root.iterdir():
            if p.name.startswith(".") and p.name.endswith(".partial") and not p.is_symlink():
                with contextlib.suppress(OSError):  # a read-only disk keeps it: it is never counted
                    self.trash.put(p, -1)
        found = [p for p in self.root.iterdir() if (p.is_file() or p.is_dir()) and not p.name.startswith(".")]
        for p in sorted(found, key=lambda p: p.stat().st_mtime):
            self._stamp(p.name)
            self.entries[p.name] = self.stamps[p.name][0]  # a folder's: the bytes of its files
            self.unverified.add(p.name)

    def reopen(self) -> None:
        """A folder unusable at start read again once it works (``cache_roots``); raises while it does not."""
        with self._lock:
            self.entries.clear()
            self.stamps.clear()
            self.unverified.clear()
            self._open()
            self.fault = None

    def check_fault(self) -> None:
        """Raises CacheWriteError with the error that made its folder unusable at start, while it is: a stage-in on
        a node resumed unfixed drains it again (``cache_roots`` clears it once the folder works)."""
        if self.fault is not None:
            exc = self.fault
            raise CacheWriteError(exc.errno or errno.EIO, exc.strerror or str(exc), exc.filename or str(self.root))

    def path_of(self, name: str) -> Path:
        if "/" in name or name.startswith("."):
            raise ValueError(f"dataset name {name!r} cannot be a cache file name")
        return self.root / name

    def has(self, name: str) -> bool:
        """Cached and unchanged since HAL wrote it: a file a job rewrote through $HAL_DATA is dropped (and
        staged again) rather than served to the next job."""
        with self._lock:
            if name not in self.entries:
                return False
            try:
                stale = self._changed(name)
            except FileNotFoundError:
                stale = "deleted"
            except OSError as exc:  # a file where the cache folder was, no permission: not a copy to serve
                stale = f"unreadable ({exc.strerror})"
            if stale:
                self.drop(name)
        if stale and self.on_stale is not None:  # outside the lock: the catalog forgets this replica
            self.on_stale(name, f"the cached copy of {name!r} on {self.node} was {stale} behind HAL's back")
        return not stale

    def ready(self) -> None:
        """Its folder, made again if it went away; raises when something else stands in its place."""
        if self.root.exists() and not self.root.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file stands where the cache folder was", str(self.root))
        self.root.mkdir(parents=True, exist_ok=True)

    def drop(self, name: str) -> None:
        """Forget a dataset and put its file or folder aside, deleted by ``trash`` (a changed or unregistered
        copy): callers hold the controller's lock, and a large tree's deletion took seconds under it (QA)."""
        with self._lock:
            size = self.entries.pop(name, -1)
            self.stamps.pop(name, None)
            with contextlib.suppress(OSError):  # the folder itself broken: forgotten all the same (node drained)
                self.trash.put(self.path_of(name), size)

    def _stamp(self, name: str) -> None:
        self.stamps[name] = stamp_of(self.path_of(name))

    def _changed(self, name: str) -> str:
        """Says "changed" when the copy's content stamp moved; when only its inodes' change times did (a job removed
        its link, or wrote and put the mtime back), it is checksummed before the next job reads it
        (``unverified``), as a copy found at start is."""
        was, now = self.stamps.get(name), stamp_of(self.path_of(name))
        if was == now:
            return ""
        if was is None or was[:META] != now[:META]:
            return "changed"
        self.unverified.add(name)
        self.stamps[name] = now
        return ""

    @contextlib.contextmanager
    def relinking(self, names: Iterable[str], checked: Collection[str] = ()) -> Iterator[dict[str, Stamp]]:
        """HAL's own hard links to cached copies made or removed (a job's $HAL_DATA): each moves the change times
        the stamp holds, so a copy unchanged before is stamped again after and stays trusted. ``checked``: copies
        looked at just before (a launch's ``has``); the others are looked at first (a job's end, when what it
        wrote must not be stamped as good). The caller may put a copy's stamp after its links in the dict yielded
        (``job_links.link_tree`` returns it) to spare a walk of a large tree."""
        with self._lock:
            keep = []
            for name in dict.fromkeys(names):
                if name in self.entries and name not in self.unverified:
                    with contextlib.suppress(OSError):
                        if name in checked or self.stamps.get(name) == stamp_of(self.path_of(name)):
                            keep.append(name)
            after: dict[str, Stamp] = {}
            try:
                yield after
            finally:
                for name in keep:
                    with contextlib.suppress(OSError):
                        self.stamps[name] = after[name] if name in after else stamp_of(self.path_of(name))

    def used(self) -> int:
        with self._lock:
            return sum(self.entries.values()) + sum(self.reserved.values())

    def held(self) -> int:
        """Bytes no eviction can free now: running jobs' inputs and the room reserved for copies under way."""
        with self._lock:
            return self.held_now()

    def held_now(self) -> int:
        """``held`` read without the lock, from snapshots of its dicts (another cache on its disk asks, holding its
        own lock: hal/data/shared_disk.py)."""
        pins = {name for name, holders in dict(self.pins).items() if holders}
        pinned = sum(size for name, size in dict(self.entries).items() if name in pins)
        return pinned + sum(dict(self.reserved).values())

    def free_room(self) -> int:
        """Bytes a new copy could have once every unpinned dataset is evicted."""
        return self.capacity - self.held()

    def unreserve(self, name: str) -> None:
        with self._lock:
            self.reserved.pop(name, None)

    def touch(self, name: str) -> None:
        with self._lock:
            if name in self.entries:
                self.entries.move_to_end(name)
                path = self.path_of(name)
                path.touch()
                if not path.is_dir():  # a file's mtime moved; a tree's stamp leaves out its own folder (no walk)
                    self._stamp(name)

    def pin(self, name: str, job_id: int) -> None:
        with self._lock:
            self.pins.setdefault(name, set()).add(job_id)

    def unpin_job(self, job_id: int) -> None:
        with self._lock:
            for holders in self.pins.values():
                holders.discard(job_id)

    def make_room(self, size: int, reserve: str | None = None, written: bool = False) -> list[str]:
        """Evict least recently used unpinned datasets until ``size`` bytes fit; the names evicted. With
        ``reserve``, the room is held for that copy (two copies at once could otherwise both fit the same
        free bytes) until ``add`` or ``unreserve``, and it must fit the filesystem's free bytes too: evicted for,
        or refused (``_check_disk``) when it could not fit, unless the bytes are ``written`` there already (a job's
        kept outputs, hal/data/kept_room.py)."""
        with self._lock:
            if size > self.capacity:
                raise CacheFull(f"{self.node}: a dataset of {size} bytes exceeds the cache ({self.capacity} bytes)")
            evictable = self._evictable()
            if self.used() - evictable + size > self.capacity:  # refused before anything is deleted (QA: it
                raise CacheFull(  # evicted every unpinned dataset, then found the pinned rest left no room)
                    f"{self.node}: {size} bytes do not fit; the rest of the cache is {self._holders()}", True
                )
            disk = reserve if not written else None  # a copy about to write ``size`` new bytes to this filesystem
            if disk is not None:
                self._check_disk(size, evictable + shared_disk.evictable_beside(self), disk)
            evicted, beside = self._evict(size, disk)
            rest = self._holders() if self.used() + size > self.capacity else ""
            if not rest and reserve is not None:
                self.reserved[reserve] = size
        shared_disk.tell(self, beside)  # outside the lock: the catalog forgets the other nodes' copies evicted
        if rest:
            raise CacheFull(f"{self.node}: {size} bytes do not fit; the rest of the cache is {rest}", True)
        return evicted

    def evict_for_disk(self, size: int, name: str) -> list[str]:
        """After a copy of ``name`` found the disk full mid-copy (another writer took its room): least recently used
        unpinned datasets evicted until the disk holds it again, the names; none when its free bytes hold it already
        (a fault eviction cannot fix) or would not with every unpinned dataset gone (evicted for nothing)."""
        with self._lock:
            short = self._disk_short(size, name)
            if not 0 < short <= self._evictable() + shared_disk.evictable_beside(self):
                return []
            evicted, beside = self._evict(size, name)
        shared_disk.tell(self, beside)
        return evicted

    def full_mid_copy(self, size: int, name: str) -> CacheFull | None:
        """After a copy of ``name`` found the disk full mid-copy and evicting could not help: CacheFull to wait for
        when other caches' running jobs on its disk hold the bytes it lacks (``full_beside``), else None."""
        with self._lock:
            short = self._disk_short(size, name) - self._evictable() - shared_disk.evictable_beside(self)
            return self.full_beside(size, short) if short > 0 else None

    def _evict(self, size: int, disk: str | None) -> tuple[list[str], list[tuple[NodeCache, str]]]:
        """Least recently used unpinned datasets out (lock held) until ``size`` bytes fit cache_bytes and, for the
        copy ``disk``, the filesystem's free bytes less what other copies have yet to write: a disk smaller than
        cache_bytes kept an unused dataset, and the copy failed with ENOSPC mid-copy (QA: the node was drained).
        Its own first, then, for the disk, those of the other caches on it (QA LOW-8); the names, and theirs."""
        short = 0 if disk is None else self._disk_short(size, disk)  # asked once; each eviction frees its bytes
        evicted, short = self.evict_unpinned(short, size)
        return evicted, shared_disk.evict_beside(self, short) if short > 0 else []

    def evict_unpinned(self, short: int, size: int = 0) -> tuple[list[str], int]:
        """Least recently used unpinned datasets out (lock held) until the disk lacks no more (``short``) and ``size``
        bytes fit cache_bytes: the names, and what the disk still lacks."""
        evicted: list[str] = []
        for name in list(self.entries):
            if self.used() + size <= self.capacity and short <= 0:
                break
            if self.pins.get(name):
                continue
            self.trash.put(self.path_of(name), self.entries[name])  # a read-only disk raises: nothing evicted
            short -= self.entries.pop(name)
            self.stamps.pop(name, None)
            evicted.append(name)
        return evicted, short

    def _evictable(self) -> int:
        """Bytes of the datasets no running job pins (lock held)."""
        return sum(n for name, n in self.entries.items() if not self.pins.get(name))

    def _check_disk(self, size: int, evictable: int, reserve: str) -> None:
        """ENOSPC, before anything is evicted, when the filesystem's free bytes plus every evictable dataset could
        not hold ``size`` (cache_bytes set above the disk's size; QA: a 40M tmpfs under cache_bytes = "80M" lost
        its other datasets to a copy that then failed all the same). Room that only copies under way hold is no
        fault of the node's: CacheFull to wait for, as for pinned datasets (the node was drained; QA). So is room that
        other nodes' running jobs hold on a disk their caches share (QA LOW-8: the job FAILED while it waited)."""
        short = self._disk_short(size, reserve)
        if short <= evictable:
            return
        short -= self.to_come(but=reserve)
        if short <= evictable:  # their datasets become evictable once their jobs end
            raise CacheFull(f"{self.node}: {size} bytes do not fit the disk beside the copies under way", True)
        full = self.full_beside(size, short - evictable)
        if full is not None:
            raise full
        raise CacheWriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.root))

    def full_beside(self, size: int, lacking: int) -> CacheFull | None:
        """CacheFull to wait for when the ``lacking`` bytes its disk misses for a copy of ``size`` are held by other
        caches' running jobs on that disk (they free once the jobs end); None when more is missing than they hold
        (a disk too small, or full of files not HAL's): no wait brings it."""
        held, nodes = shared_disk.held_beside(self)
        if lacking > held or not nodes:
            return None
        return CacheFull(
            f"{self.node}: {size} bytes do not fit its cache's disk, shared with the caches of {', '.join(nodes)}: "
            f"the rest is held by their running jobs ({held:,} bytes)",
            True,
        )

    def _disk_short(self, size: int, but: str) -> int:
        """The bytes the filesystem lacks for a copy of ``size`` (other than ``but``'s): its free bytes count less
        what the copies under way have yet to write, plus the trash being deleted (evicting more for bytes already on
        their way out deleted datasets for nothing; ``disk_waits`` holds the copy until they are gone). 0 for a
        disk that cannot be asked (not refused)."""
        try:
            free = shutil.disk_usage(self.root).free
        except OSError:
            return 0
        coming = self.to_come(but=but) + shared_disk.coming(self)  # the other caches' copies on its disk too
        return max(0, size - (free + self.trash.pending() - coming))

    def disk_waits(self, size: int, but: str) -> bool:
        """Whether a copy of ``size`` must wait for the trash before it writes: the disk's real free bytes (the
        trash still on it) lack room for it, and trash is being deleted."""
        if not self.trash.busy():
            return False
        with contextlib.suppress(OSError):
            return size > shutil.disk_usage(self.root).free - self.to_come(but=but) - shared_disk.coming(self)
        return False

    def to_come(self, but: str | None = None) -> int:
        """Bytes the copies under way have yet to write: their reservations less their ``.partial`` files so far.
        The disk's free bytes do not count them yet (two copies that each fit, but not both, both began; QA). Read
        from a snapshot, without the lock: another cache on its disk asks it, holding its own (shared_disk)."""
        pending = {k: n for k, n in dict(self.reserved).items() if k != but and not k.startswith(".jobs/")}  # kept
        if not pending:  # outputs are on the disk already
            return 0
        written = dict.fromkeys(pending, 0)
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.root):
                found = _PARTIAL.fullmatch(entry.name)
                if found is not None and found.group(1) in written:
                    written[found.group(1)] += bytes_in(Path(entry.path))
        return sum(max(0, n - written[k]) for k, n in pending.items())

    def _holders(self) -> str:
        """What keeps the room (lock held): jobs' pinned inputs, and failed outputs kept in their job folders (a job
        waiting for room was told 'pinned by jobs' while kept outputs held it, review)."""
        kept = sum(n for k, n in self.reserved.items() if k.startswith(".jobs/"))
        return f"pinned by jobs or held by failed outputs kept there ({kept:,} bytes)" if kept else "pinned by jobs"

    def hold(self, key: str, size: int) -> None:
        """Count ``size`` bytes under ``key`` whatever the room (bytes on the disk already: kept outputs)."""
        with self._lock:
            self.reserved[key] = size

    def add(self, name: str, size: int) -> None:
        with self._lock:
            self.unverified.discard(name)  # written and checked by HAL just now
            self.reserved.pop(name, None)
            self.entries[name] = size
            self.entries.move_to_end(name)
            self._stamp(name)
