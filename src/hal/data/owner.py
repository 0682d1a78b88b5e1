"""One server per data plane: two servers whose cluster files shared a ``[data]`` catalog or cache folder
destroyed each other's job data without a word (server B's job 738 ending removed server A's job 738's
$HAL_DATA on the same node name; both rewrote the same catalog from their own memory). A data plane holds an
exclusive ``flock`` on a lock file beside its catalog and in each of its cache folders for as long as it runs:
the kernel drops it when the process ends, so a lock file a dead server left behind is simply taken over."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import resource
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("hal.data")

CACHE_LOCK = ".hal-owner.lock"  # a dot file: never taken for a cached dataset (NodeCache skips dot files)


class DataPlaneBusy(ValueError):
    """Another live server holds this catalog or cache folder: says which (its home and pid)."""


class DataPlaneLock:
    """The lock files this data plane holds; ``release`` lets a restart in the same process take them."""

    def __init__(self, handles: list[IO[str]]) -> None:
        self.handles = handles
        self.faults: dict[Path, OSError] = {}  # ``spare`` folders it could not make or lock (``claim``)

    def release(self) -> None:
        for handle in self.handles:
            with contextlib.suppress(OSError):
                handle.close()  # closing drops the flock
        self.handles = []


def owner_home(controller: Any) -> str:
    """Where this server keeps its state, named in a refusal: its spool's or SQLite database's folder."""
    spool = getattr(getattr(controller.executor, "spool", None), "root", None)
    if spool is not None:
        return str(Path(spool).resolve().parent)
    url = str(getattr(controller.store, "url", ""))
    return str(Path(url.removeprefix("sqlite:///")).parent) if url.startswith("sqlite:///") else "?"


def claim(catalog: Path | None, cache_dirs: Iterable[Path], home: str, spare: Iterable[Path] = ()) -> DataPlaneLock:
    """Lock the catalog (``<catalog>.lock``, when its folder exists: ``Catalog`` says why not otherwise) and each
    cache folder (made if missing), or raise DataPlaneBusy naming the live server that holds one of them. A folder
    in ``spare`` (a node's) that cannot be made or locked is noted in ``faults``, not raised: one node's broken
    disk drains that node (hal/data/start_faults.py)."""
    folders = list(dict.fromkeys(Path(d) for d in cache_dirs))
    _room_for(len(folders) + 1)
    targets = [(Path(d) / CACHE_LOCK, f"cache_dir {d}") for d in folders]
    if catalog is not None and catalog.parent.is_dir():
        targets.insert(0, (catalog.with_name(catalog.name + ".lock"), f"catalog {catalog}"))
    held = DataPlaneLock([])
    try:
        spared = set(map(Path, spare))
        for path, what in targets:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                held.handles.append(_take(path, what, home))
            except OSError as exc:
                if path.parent not in spared:
                    raise
                held.faults[path.parent] = exc
    except BaseException:
        held.release()
        raise
    return held


def retake(held: DataPlaneLock, path: Path, home: str) -> None:
    """A lock file removed behind this server's back (its cache folder deleted): made again and locked, its old
    handle (an unlinked file, which protects nothing now) closed; DataPlaneBusy if another server took it."""
    for handle in [h for h in held.handles if Path(h.name) == path]:
        held.handles.remove(handle)
        with contextlib.suppress(OSError):
            handle.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    held.handles.append(_take(path, f"cache_dir {path.parent}", home))


def _take(path: Path, what: str, home: str) -> IO[str]:
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = _read(handle)
        handle.close()
        raise DataPlaneBusy(
            f"[data] {what} is in use by another HAL server (home {other.get('home', '?')}, pid "
            f"{other.get('pid', '?')}): two servers on one catalog or cache folder remove each other's job data; "
            "give each cluster file its own [data] catalog and cache_dir"
        ) from None
    except BaseException:
        handle.close()
        raise
    before = _read(handle)
    if before.get("pid") not in (None, os.getpid()):  # its holder ended without releasing it (killed, crashed)
        log.info("taking over %s from a server no longer running (home %s, pid %s)", what, before.get("home", "?"),
                 before.get("pid"))  # fmt: skip
    handle.seek(0)
    handle.truncate(0)
    handle.write(json.dumps({"home": home, "pid": os.getpid()}) + "\n")
    handle.flush()
    return handle


def _read(handle: IO[str]) -> dict[str, Any]:
    """The holder a lock file names; {} for an empty or foreign one (an older HAL wrote nothing)."""
    try:
        handle.seek(0)
        found = json.loads(handle.read() or "{}")
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _room_for(count: int) -> None:
    """One open file per cache folder for the server's lifetime: the soft limit raised (to the hard one at
    most) when a large cluster's folders would leave too few descriptors for jobs and connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 1024
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
