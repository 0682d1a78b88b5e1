"""A job's output copied from its $HAL_DATA to its destination and published into the node's cache: a file,
or a folder (a checkpoint) sent file by file as a tree (``hal.data.tree``)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hal.data.cache import CacheFull
from hal.data.catalog import Dataset, Replica, public_uri
from hal.data.dest_temps import ASIDE, PARTIAL, remove, temp_name, temps_of
from hal.data.destination import Writer, claimed_by, make_parent, unknown_there
from hal.data.storage import storage_fs
from hal.data.tree import bytes_in, list_tree, remove_path, resolve_links, seal, tree_digest, unshare
from hal.data.watch import Pace, Progress, small_blocks, watched

LINGER = 2.0  # s a stage-out given up on is given to stop and remove its partial copy (unless its write hangs)

if TYPE_CHECKING:
    from hal.data.stager import Stager


def watched_copy_out(
    stager: Stager,
    job_id: int,
    name: str,
    node: str,
    dest_uri: str,
    chunk: int,
    stop: Callable[[], bool] | None = None,
    writer: Writer = ("", False),
) -> tuple[str, int]:
    """``copy_out`` watched from the calling thread (``hal.data.watch.watched``): a destination that takes nothing
    for ``stall_timeout`` s fails the output (not tried again: another copy would only hang beside it), and a
    stopping server returns at once, its next start staging the output out again; so does ``stop()`` (the job's
    stage-out cancelled), looked at between chunks too, so the copy removes its partial file at once. ``writer``:
    the job's user and whether an administrator (who may replace a forgotten output: ``unknown_there``)."""
    from hal.data.stager import StageCancelled, StageError

    def stalled() -> Exception:
        why = f"the destination {public_uri(dest_uri)} took no data for {stager.stall_timeout:g} s (stall_timeout)"
        return StageError(name, node, 1, [f"{why}: storage not answering"], out=True)

    def check() -> None:
        stager._check_stop(-1)
        if stop is not None and stop():
            raise StageCancelled(f"job {job_id}'s stage-out of {name!r} was cancelled")

    def work(progress: Progress) -> tuple[str, int]:
        def tick() -> None:
            check()
            progress.tick()

        return copy_out(stager, job_id, name, node, dest_uri, chunk, tick, writer)

    return watched(work, stager.stall_timeout, check, stalled, linger=LINGER)


def unpublish(dest_uri: str, partials: bool = True) -> None:
    """What a cancelled stage-out left at its destination (its last bytes landed as the cancel came): removed, so
    nothing the catalog does not name stays there (and a later output of that name is not refused over it).
    ``partials``: copies under way too (not when a requeued job's new attempt may be writing one)."""
    fs, path = storage_fs(dest_uri)
    for stale in [path, *(temps_of(fs, path, PARTIAL) if partials else ())]:
        if fs.exists(stale):
            remove(fs, stale)


def _idle() -> None:
    """No watcher: nothing to report to."""


def copy_out(
    stager: Stager,
    job_id: int,
    name: str,
    node: str,
    dest_uri: str,
    chunk: int,
    tick: Callable[[], None] = _idle,
    writer: Writer = ("", False),
) -> tuple[str, int]:
    """The long half of a stage-out (checksum and copy): touches no catalog or cache state, so a worker
    thread may run it while the controller keeps scheduling. ``tick``: called as bytes go out (a watcher's
    stall timer) and before the copy takes its final name (one given up on stops there)."""
    from hal.data.stager import StageError

    stager.caches[node].path_of(name)  # a name that cannot be a file name is refused here
    local = stager.job_dir(node, job_id) / name
    if not local.exists():
        raise StageError(name, node, 1, [f"output {name!r} was not written to {local}"], out=True)
    if why := unpublishable(local):  # a pipe read as a file never ends (a restart's catch-up reaches it unchecked)
        raise StageError(name, node, 1, [why], out=True)
    tree = local.is_dir() and not local.is_symlink()
    if why := claimed_by(stager.catalog, name, dest_uri, stager.caches):  # before anything is written there
        raise StageError(name, node, 1, [why], out=True)
    unshare(local, tick)  # a hard link to a file outside: its own copy, sent, sealed and cached, not that file
    # Written under a temporary name and renamed, so a copy cut short (a killed controller) never looks
    # like a finished output at the destination.
    from fsspec.implementations.local import LocalFileSystem  # here: a server without a data plane never loads it

    fs, path = storage_fs(dest_uri)  # a backend's own errors (ftplib's, EOFError) are failed copies: tried again
    make_parent(fs, path)  # output_uri's {job} folder: local, FTP, SFTP... (object stores have none)
    _tidy_aside(fs, path)  # before looking at what is there
    if not tree and fs.isdir(path):  # a rename would move the copy into it, and 'done' would name no file
        raise StageError(name, node, 1, [f"the destination {public_uri(dest_uri)} is a folder"], out=True)
    if tree and fs.isfile(path):
        raise StageError(name, node, 1, [f"the destination {public_uri(dest_uri)} is a file"], out=True)
    for stale in temps_of(fs, path, PARTIAL):  # a copy cut by a killed server: one output, one writer at a time
        remove(fs, stale)
    partial, aside = temp_name(path, PARTIAL), temp_name(path, ASIDE)
    try:
        if tree:
            try:  # a link leading out of it, to a folder or to nothing, or a pipe: refused, naming it
                files = list_tree(LocalFileSystem(), str(local), f"$HAL_DATA/{name}")
            except ValueError as exc:  # it escaped the worker's except, and the job sat in STAGE_OUT for good (QA)
                raise StageError(name, node, 1, [str(exc)], out=True) from exc
            records = [
                (f.rel, *_send(stager, Path(f.path), fs, f"{partial}/{f.rel}", chunk, tick, True)) for f in files
            ]
            digest, size = tree_digest(records), sum(r[1] for r in records)
            _may_replace(stager, name, node, fs, path, dest_uri, (digest, size), tick, writer)
            if fs.exists(path):  # an earlier run's tree: moved aside, not deleted, until the new one is in place
                fs.mv(path, aside, recursive=True)
        else:
            size, hexdigest = _send(stager, local, fs, partial, chunk, tick)  # the digest of the bytes sent: read once
            digest = f"sha256:{hexdigest}"
            _may_replace(stager, name, node, fs, path, dest_uri, (digest, size), tick, writer)
        fs.mv(partial, path, **({"recursive": True} if tree else {}))
        try:  # a watcher that gave up while the rename hung (a cancel, a stall, a stopping server) is told nothing
            tick()  # more: the copy it no longer waits for takes the name back itself (an earlier tree returns)
        except BaseException:
            remove(fs, path)
            raise
    except BaseException:
        with contextlib.suppress(OSError):  # the error to tell is the copy's (storage gone: the next try tidies)
            if fs.exists(partial):
                remove(fs, partial)
        with contextlib.suppress(OSError):
            _tidy_aside(fs, path)  # the earlier tree back in its place
        raise
    _tidy_aside(fs, path)
    return digest, size


def _may_replace(
    stager: Stager,
    name: str,
    node: str,
    fs: Any,
    path: str,
    dest_uri: str,
    sent: tuple[str, int],
    tick: Callable[[], None],
    writer: Writer,
) -> None:
    """What is at the destination may be replaced (``hal.data.destination``: what is there read with ``tick``s, so
    a large copy that had landed is no stall); a watcher that gave up on this copy stops it here, before it takes
    the destination's name."""
    from hal.data.stager import StageError

    tick()
    if fs.exists(path) and (why := unknown_there(stager.catalog, name, dest_uri, *sent, tick, writer)):
        raise StageError(name, node, 1, [why], out=True)
    tick()


def _tidy_aside(fs: Any, path: str) -> None:
    """An earlier tree moved aside (``hal.data.dest_temps.ASIDE``) while a new one took its place: deleted once the
    new one is there, else put back, so a stage-out cut between the two renames (a killed server: its next start's
    catch-up comes here) never leaves the destination without a tree."""
    for old in temps_of(fs, path, ASIDE):
        if fs.exists(path):
            remove(fs, old)
        else:
            fs.mv(old, path, recursive=True)


def unpublishable(path: Path) -> str:
    """Why a declared output cannot be published, or "": it must be a regular file or a folder the job wrote (a
    link could point anywhere, even at another dataset; what a folder holds is checked as it is staged out)."""
    if path.is_symlink():
        return f"$HAL_DATA/{path.name} is a symbolic link; an output must be a file or folder the job writes"
    if path.is_dir():  # one with no file at all is no dataset: said now, not after a stage-out that keeps it
        has_file = any(names for _, _, names in os.walk(path))
        return "" if has_file else f"$HAL_DATA/{path.name} is an empty folder; a folder output holds files"
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return f"not written: $HAL_DATA/{path.name}"
    if stat.S_ISREG(mode):
        return ""
    kind = "a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"$HAL_DATA/{path.name} is {kind}; an output must be a file or folder the job writes"


def _send(
    stager: Stager, local: Path, fs: Any, dest: str, chunk_size: int, tick: Callable[[], None], inner: bool = False
) -> tuple[int, str]:
    """One file copied to ``dest`` on ``fs`` (``inner``: a tree's, its folder made first): size and sha256 hex of
    the bytes sent, in ``tree_digest``'s record order. ``tick`` after each write: written a ``Pace`` at a time
    into a file that sends what it is given at once (``small_blocks``), so a slow but live destination is never
    taken for a stalled one (QA: a tick per 4 MiB, sent in 5 MiB blocks, failed one that took 150 KB/s)."""
    digest, size, pace = hashlib.sha256(), 0, Pace(stager.stall_timeout, chunk_size)
    if inner:
        fs.makedirs(posixpath.dirname(dest), exist_ok=True)
    with local.open("rb") as src, fs.open(dest, "wb", **small_blocks(fs)) as dst:
        while chunk := src.read(pace.size):
            stager._check_stop(-1)  # only a stopping server cuts a stage-out; its next start redoes it
            digest.update(chunk)
            size += len(chunk)
            start = time.monotonic()
            dst.write(chunk)
            pace.took(time.monotonic() - start, len(chunk))
            tick()
    return size, digest.hexdigest()


def register_out(
    stager: Stager, job_id: int, name: str, node: str, dest_uri: str, digest: str, size: int, home: str, owner: str
) -> Dataset:
    """The short half: the catalog learns the dataset and its two replicas (destination, node cache)."""
    dataset = stager.catalog.register(Dataset(name, size, digest, dest_uri, owner), home)
    cache, written = stager.caches[node], stager.job_dir(node, job_id) / name
    try:  # the output stays cached (a replica) if room can be made for it; it is safe at its destination
        for gone in cache.make_room(size):
            stager._record(f"evicting {gone!r} from {node}", stager.catalog.remove_replica, gone, node)
    except CacheFull:
        remove_path(written)  # larger than the cache could hold: not kept there
        return dataset
    if written.is_dir() and not written.is_symlink():
        resolve_links(written)  # the cached tree holds regular files only, as a staged one does
    seal(written)
    if cache.path_of(name).is_dir():  # nothing should be there; a stale folder would refuse the rename: put aside,
        cache.trash.put(cache.path_of(name), bytes_in(cache.path_of(name)))  # deleted outside the controller's lock
    written.replace(cache.path_of(name))  # out of the job's folder into the shared cache
    cache.add(name, size)
    stager._record(
        f"the copy of {name!r} on {node}", stager.catalog.add_replica, Replica(name, node, str(cache.path_of(name)))
    )
    return dataset
