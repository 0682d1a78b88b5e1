"""Staging: copy a job's inputs into its nodes' caches through fsspec, verify, register, retry per policy."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hal.data.cache import CacheFull, CacheWriteError, NodeCache, local_write
from hal.data.catalog import CHUNK, Catalog, CatalogSaveError, Dataset, Replica, checksum_of, public_uri
from hal.data.copy_faults import ChecksumMismatch, source_fault, why
from hal.data.disk_room import await_trash, copy_evicting
from hal.data.disk_size import disk_total
from hal.data.flights import Flights
from hal.data.job_links import clear_job_folder, link_tree, names_in
from hal.data.sources import SourceOrder, default_order
from hal.data.stage_out import register_out, watched_copy_out
from hal.data.storage import storage_fs
from hal.data.tree import is_tree, list_tree, remove_path, seal, tree_digest
from hal.data.watch import small_blocks, watched_copy

log = logging.getLogger("hal.data")

JOBS = ".jobs"  # in a node cache: one folder per running job, its $HAL_DATA
READ_ONLY = 0o444  # cached copies: a job's process (not root) cannot rewrite another job's input
_ATTEMPTS = itertools.count()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failed stage-in is tried again (every source each time), with exponential backoff."""

    attempts: int = 3
    backoff: float = 0.5
    factor: float = 2.0
    max_backoff: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")

    def delay(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * self.factor ** (attempt - 1)))


class StageError(RuntimeError):
    """Staging failed on every source and every attempt; ``reasons`` say why each try failed."""

    def __init__(self, dataset: str, node: str, attempts: int, reasons: list[str], out: bool = False) -> None:
        self.dataset, self.node, self.attempts, self.reasons = dataset, node, attempts, reasons
        where = f"out from {node}" if out else f"to {node}"
        super().__init__(f"staging {dataset!r} {where} failed after {attempts} attempt(s): " + "; ".join(reasons[-3:]))


class StageCancelled(RuntimeError):
    """The job the copy was for was cancelled: the copy is abandoned (its partial file removed)."""


@dataclass(frozen=True, slots=True)
class Staged:
    dataset: str
    node: str
    path: Path
    source: str  # the replica location it came from ("" when already cached)
    bytes_copied: int
    seconds: float
    attempts: int

    @property
    def hit(self) -> bool:
        return self.bytes_copied == 0


class Stager:
    """Stages datasets into node caches; every copy is checked against the catalog's checksum."""

    def __init__(
        self,
        catalog: Catalog,
        caches: dict[str, NodeCache],
        policy: RetryPolicy | None = None,
        order: SourceOrder = default_order,
        sleep: Callable[[float], None] = time.sleep,
        guard: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
    ) -> None:
        self.catalog, self.caches = catalog, caches
        self.policy = policy or RetryPolicy()
        self.order, self.sleep = order, sleep
        self.guard = guard  # held around catalog and cache updates (never around a copy): a worker thread
        # stages while the controller, holding the same lock, schedules from the catalog's locality view
        self.stopping: Callable[[int], bool] = lambda job_id: False  # asked between chunks: abandon the copy?
        self.closing = threading.Event()  # the server is stopping: every copy stops within a chunk
        self.stall_timeout = 300.0  # s without a byte from the source before a copy attempt fails
        self.keep_failed_outputs = 7 * 86400.0  # s a failed stage-out's file stays in its job's folder; 0: for good
        self._flights = Flights()  # one copy of a dataset into a node at a time, watched for every job wanting it
        for cache in caches.values():  # a copy found deleted or changed: placement no longer counts on it
            cache.on_stale = functools.partial(self._stale, cache.node)

    def _stale(self, node: str, name: str, why: str) -> None:
        """A node's cached copy is gone or bad: dropped from the catalog too, or placement kept favouring that
        node and other nodes tried that replica first ("source missing")."""
        log.warning("%s; its replica is dropped from the catalog", why)
        self._record(f"dropping the replica of {name!r} on {node}", self.catalog.remove_replica, name, node)

    def _record(self, what: str, change: Callable[..., None], *args: Any) -> None:
        """A replica change the catalog could not save is logged, not raised: the copy itself is fine, the
        catalog is only a hint about where copies are (a restart checks the caches against it), and a stage-in
        that failed over it blamed its source."""
        try:
            change(*args)
        except CatalogSaveError as exc:
            log.warning("%s: not recorded: %s", what, exc)

    def env(self, nodes: list[str], job_id: int) -> dict[str, str]:
        """What a job on ``nodes`` needs to find its inputs: $HAL_DATA/<name> on the first node, where the batch
        script runs, and each node's folder for `srun`, which gives every task its own node's $HAL_DATA."""
        return {
            "HAL_DATA": str(self.job_dir(nodes[0], job_id)),
            "HAL_DATA_NODES": json.dumps({n: str(self.job_dir(n, job_id)) for n in nodes}),
        }

    def largest_cache(self) -> int:
        """The most any one node can hold: a dataset (or a job's inputs together) larger can never be staged. A
        cache holds no more than its filesystem's whole size, whatever cache_bytes says (QA: a dataset larger than
        the disk was accepted, then failed every stage-in with ENOSPC)."""
        return max((min(c.capacity, disk_total(c.root)) for c in self.caches.values()), default=0)

    def job_dir(self, node: str, job_id: int) -> Path:
        return self.caches[node].root / JOBS / str(job_id)

    def open_job_dir(self, job_id: int, node: str, inputs: tuple[str, ...] | list[str]) -> Path:
        """A job's own $HAL_DATA: its inputs as hard links to the cached copies (no copy, and removing one
        removes only the link; a folder as folders of its own holding links, so what the job adds or removes
        there never reaches the cached tree) and room for its outputs and scratch. A job sees no other dataset,
        and what it writes is not in the shared cache until its stage-out publishes it, so a failed job's
        leftovers are never served to anyone."""
        folder = self.job_dir(node, job_id)
        cache = self.caches[node]
        left = names_in(folder)  # a requeued job's earlier links: what it wrote through them is not stamped
        with cache.relinking([*left, *inputs], checked=set(inputs) - set(left)) as after:
            shutil.rmtree(folder, ignore_errors=True)  # a requeued job starts clean
            folder.mkdir(parents=True)
            for name in inputs:
                after[name] = link_tree(cache.path_of(name), folder / name)
        return folder

    def close_job_dir(self, node: str, job_id: int, keep: tuple[str, ...] = ()) -> None:
        """Remove a job's $HAL_DATA, all but the outputs in ``keep`` (still to be staged out)."""
        folder = self.job_dir(node, job_id)
        with self.caches[node].relinking(names_in(folder)):  # what the job wrote through its links is not stamped
            clear_job_folder(folder, keep)

    def stage_in(self, job_id: int, names: tuple[str, ...] | list[str], nodes: list[str]) -> list[Staged]:
        """Every input on every node of the job, pinned until ``release(job_id)``. The inputs a node already
        holds are pinned first, so copying the others never evicts them (QA: c40 was evicted to make room for
        a30, both inputs of one job, and copied again later)."""
        done: list[Staged] = []
        for node in nodes:
            try:
                with self.guard():
                    (cache := self.caches[node]).check_fault()  # unusable since start: the node drained again
                    found = [name for name in names if cache.has(name)]  # each copy looked at once: a tree is walked
                    for name in found:
                        cache.pin(name, job_id)
                    hits = {name: self._hit(job_id, name, cache) for name in found if name not in cache.unverified}
                for name in names:
                    done.append(hits[name] if name in hits else self.stage_one(job_id, name, node))
            except CacheWriteError as exc:  # this node's cache failed (full, read-only): the node to drain
                exc.node = node
                raise
        return done

    def pin_cached(self, job_id: int, names: tuple[str, ...] | list[str], nodes: list[str]) -> bool:
        """Every input cached on every node, unchanged and trusted (each looked at once): all pinned and touched,
        so the controller launches the job with nothing to copy; False, nothing pinned, when any needs a copy or
        its first check (a worker's ``stage_in`` then)."""
        with self.guard():
            caches = [self.caches[node] for node in nodes]
            if not all(c.has(name) and name not in c.unverified for c in caches for name in names):
                return False
            for cache in caches:
                try:
                    for name in names:
                        self._hit(job_id, name, cache)
                except CacheWriteError as exc:
                    exc.node = cache.node
                    raise
        return True

    def _hit(self, job_id: int, name: str, cache: NodeCache) -> Staged:
        """A copy ``has`` just found unchanged, under the same guard (not looked at again: a tree's look walks it):
        pinned, touched for the LRU (a disk remounted read-only fails here), used as it is."""
        self.catalog.get(name)  # an unknown dataset: KeyError, as a copy would raise
        cache.pin(name, job_id)
        local_write(cache.path_of(name), cache.touch, name)
        return Staged(name, cache.node, cache.path_of(name), "", 0, 0.0, 0)

    def _check_stop(self, job_id: int) -> None:
        if self.closing.is_set():
            raise StageCancelled("the server is stopping; the copy is left for its next start")
        if self.stopping(job_id):
            raise StageCancelled(f"job {job_id} was cancelled while its inputs were staged")

    def release(self, job_id: int) -> None:
        for cache in self.caches.values():
            cache.unpin_job(job_id)

    def stage_one(self, job_id: int, name: str, node: str) -> Staged:
        """One input on one node: a hit, or a copy. Two jobs wanting the same dataset on the same node share
        one copy (the second waits for the first): each made its own, on disk twice and counted once. A hit
        takes no turn: the controller thread, holding the lock a copy needs to finish, only ever finds hits."""
        with self.guard():
            dataset = self.catalog.get(name)  # an unknown dataset: KeyError, before any wait
            if self.caches[node].has(name) and name not in self.caches[node].unverified:
                return self._hit(job_id, name, self.caches[node])
        self._verify(dataset, self.caches[node])
        with self._flights.joined(node, name, job_id) as flight:
            while not flight.lock.acquire(timeout=0.5):
                self._check_stop(job_id)  # a cancel or a stopping server does not wait for another job's copy
            try:
                with self._flights.copying(flight):
                    staged = self._stage_one(job_id, name, node)
            finally:
                flight.lock.release()
        if self.stopping(job_id):  # cancelled while its copy went on for another job: not this job's input now
            raise StageCancelled(f"job {job_id} was cancelled while its inputs were staged")
        return staged

    def _verify(self, dataset: Dataset, cache: NodeCache) -> None:
        """A copy found at start is checksummed once before a job reads it: a changed one is dropped (and staged
        again), a good one is trusted from then on."""
        if dataset.name not in cache.unverified or not cache.has(dataset.name):
            return
        try:
            good = checksum_of(str(cache.path_of(dataset.name)))[0] == dataset.checksum
        except (OSError, ValueError):
            good = False
        with self.guard():
            cache.unverified.discard(dataset.name)
            if not good:  # a replica changed; a kept copy (restart.py) that is another dataset's (QA: 'changed')
                why = ("changed on disk since cached" if cache.node in self.catalog.replicas.get(dataset.name, {})
                       else "is not the dataset now registered under that name")  # fmt: skip
                log.warning("the cached copy of %r on %s %s; dropped, staged again", dataset.name, cache.node, why)
                cache.drop(dataset.name)
                self._record(f"dropping the replica of {dataset.name!r} on {cache.node}",
                             self.catalog.remove_replica, dataset.name, cache.node)  # fmt: skip
            elif cache.node not in self.catalog.replicas.get(dataset.name, {}):  # kept by a start with no catalog
                self._record(f"the copy of {dataset.name!r} on {cache.node}", self.catalog.add_replica,
                             Replica(dataset.name, cache.node, str(cache.path_of(dataset.name))))  # fmt: skip

    def _stage_one(self, job_id: int, name: str, node: str) -> Staged:
        t0 = time.monotonic()
        cache = self.caches[node]
        with self.guard():
            dataset = self.catalog.get(name)
            cache.pin(name, job_id)
            if cache.has(name):  # copied meanwhile by the job whose copy this one waited for
                return self._hit(job_id, name, cache)
        reasons: list[str] = []
        for attempt in range(1, self.policy.attempts + 1):
            with self.guard():
                sources = [r for r in self.order(self.catalog.replicas_of(name), node) if r.location != node]
            if not sources:
                reasons.append(f"attempt {attempt}: no replica of {name!r} is registered")
            for rep in sources:
                try:
                    copied = copy_evicting(self, dataset, rep, cache, job_id)
                except CacheWriteError:  # this node's cache failed (full, read-only): no retry or source helps
                    raise
                except CacheFull as exc:
                    reasons.append(str(exc))
                    raise StageError(name, node, attempt, reasons) from exc
                except (OSError, ChecksumMismatch) as exc:
                    reasons.append(f"attempt {attempt} from {rep.location}: {why(exc, rep)}")
                    if rep.location in self.caches and source_fault(exc):  # another node's copy is bad or gone
                        self._bad_replica(rep, why(exc, rep))
                    elif source_fault(exc) and rep.location != "origin":  # a stored copy changed or is gone
                        self._changed_copy(rep, why(exc, rep))
                    continue
                return Staged(name, node, cache.path_of(name), rep.location, copied, time.monotonic() - t0, attempt)
            if attempt < self.policy.attempts:
                self.sleep(self.policy.delay(attempt))
        raise StageError(name, node, self.policy.attempts, reasons)

    def _bad_replica(self, rep: Replica, why: str) -> None:
        """A node's cached copy that failed as a source (missing, or its checksum wrong): forgotten there and in
        the catalog, so no node reads it first again and placement stops counting on it."""
        log.warning("replica of %r on %s is unusable (%s): dropped", rep.dataset, rep.location, why)
        with self.guard():
            source = self.caches[rep.location]
            if Path(rep.uri) == source.path_of(rep.dataset):
                source.drop(rep.dataset)
            self._record(f"dropping the replica of {rep.dataset!r} on {rep.location}",
                         self.catalog.remove_replica, rep.dataset, rep.location)  # fmt: skip

    def _changed_copy(self, rep: Replica, why: str) -> None:
        """A copy registered in storage (hal dataset add-copy) that no longer is the dataset, or is gone: forgotten,
        a changed file left as it is, so stage-ins stop trying it first and placement stops counting on it (QA:
        each one read it, failed and fell back, and `hal dataset show` still listed it; a deleted one let `hal
        dataset rm-copy` remove the origin). Registered again once it is the dataset."""
        log.warning("stored copy of %r at %s (%s) is gone or not the dataset any more (%s): forgotten; hal dataset "
                    "add-copy registers it again", rep.dataset, rep.location, public_uri(rep.uri), why)  # fmt: skip
        with self.guard():
            self._record(f"forgetting the copy of {rep.dataset!r} at {rep.location}",
                         self.catalog.remove_replica, rep.dataset, rep.location)  # fmt: skip

    def _copy(self, dataset: Dataset, rep: Replica, cache: NodeCache, job_id: int = -1) -> int:
        """One copy from ``rep`` into ``cache``; a write the cache itself fails raises CacheWriteError."""
        final = cache.path_of(dataset.name)
        with self.guard():  # evictions delete files: a read-only cache fails here
            for gone in local_write(final, cache.make_room, dataset.size, reserve=dataset.name):
                self._record(f"evicting {gone!r} from {cache.node}", self.catalog.remove_replica, gone, cache.node)
        tmp = final.with_name(f".{dataset.name}.{next(_ATTEMPTS)}.partial")  # one per attempt: an abandoned
        # reader that wakes up later removes its own file, never a retry's
        try:
            await_trash(self, cache, dataset, job_id)  # evicted bytes deleted outside the lock: on the disk until gone
            local_write(final, final.parent.mkdir, parents=True, exist_ok=True)  # a folder wiped is made again
            if is_tree(dataset.checksum):  # a folder: into a temporary folder, renamed once verified
                got, size = self._copy_tree(rep.uri, tmp, job_id)
            else:
                got, size = self._watched_copy(rep.uri, tmp, job_id)
            if got != dataset.checksum:
                raise ChecksumMismatch(f"checksum mismatch: expected {dataset.checksum}, got {got} ({size} bytes)")
            local_write(tmp, seal, tmp)  # read-only; a tree's folders too
            if final.is_dir() and not final.is_symlink():  # a folder left in its place would refuse the rename
                local_write(final, remove_path, final)
            local_write(final, tmp.replace, final)
        except BaseException:
            cache.unreserve(dataset.name)  # the room held for this copy is free again
            raise
        finally:
            with contextlib.suppress(OSError):  # a read-only cache keeps it: the error to tell is the write's
                remove_path(tmp)
        with self.guard():
            cache.add(dataset.name, size)
            replica = Replica(dataset.name, cache.node, str(final))
            self._record(f"the copy of {dataset.name!r} on {cache.node}", self.catalog.add_replica, replica)
        return size

    def _watched_copy(self, uri: str, tmp: Path, job_id: int, opener: Any = None) -> tuple[str, int]:
        """The checksum and size of ``uri`` copied to ``tmp``, watched for a cancel, a stop or a stall. A copy other
        jobs wait for (its flight) stops only when all of them are cancelled too (hal.data.flights)."""
        gone = lambda: StageCancelled(f"job {job_id} was cancelled while its inputs were staged")  # noqa: E731
        check = self._flights.watch(lambda: self._check_stop(job_id), self.closing, self.stopping, gone)
        return watched_copy(uri, tmp, self.stall_timeout, check, CHUNK, opener)

    def _copy_tree(self, uri: str, tmp: Path, job_id: int) -> tuple[str, int]:
        """The folder ``uri`` copied into the folder ``tmp`` file by file, each watched as a file's copy is:
        its tree digest and bytes. Only regular files are read (``list_tree`` refuses the rest)."""
        fs, root = storage_fs(uri)  # a backend's own errors: failed copies, tried again
        local_write(tmp, tmp.mkdir)
        records = []
        for item in list_tree(fs, root, public_uri(uri)):
            dest = tmp / item.rel
            local_write(dest, dest.parent.mkdir, parents=True, exist_ok=True)
            opened = lambda path=item.path: fs.open(path, "rb", **small_blocks(fs))  # noqa: E731
            got, size = self._watched_copy(f"{uri}/{item.rel}", dest, job_id, opened)
            records.append((item.rel, size, got.removeprefix("sha256:")))
        return tree_digest(records), sum(r[1] for r in records)

    def stage_out(self, job_id: int, name: str, node: str, dest_uri: str, home: str = "origin") -> Dataset:
        """A job's output $HAL_DATA/<name> on ``node``: checksummed, copied to ``dest_uri``, registered with
        a replica both there and in the node's cache."""
        digest, size = self.copy_out(job_id, name, node, dest_uri)
        return self.register_out(job_id, name, node, dest_uri, digest, size, home)

    def copy_out(self, job_id: int, name: str, node: str, dest_uri: str, stop: Callable[[], bool] | None = None,
                 writer: tuple[str, bool] = ("", False)) -> tuple[str, int]:  # fmt: skip
        """The long half of a stage-out (checksum and copy), a file or a tree (``hal.data.stage_out``), watched for
        a stall (``stall_timeout``), a stopping server and ``stop()`` (the job's stage-out cancelled); ``writer``:
        the job's user and whether an administrator (a forgotten output's file is only theirs to replace)."""
        return watched_copy_out(self, job_id, name, node, dest_uri, CHUNK, stop, writer)  # CHUNK looked up now

    def register_out(
        self, job_id: int, name: str, node: str, dest_uri: str, digest: str, size: int, home: str, owner: str = ""
    ) -> Dataset:
        """The short half: the catalog learns the dataset and its two replicas (destination, node cache)."""
        return register_out(self, job_id, name, node, dest_uri, digest, size, home, owner)
