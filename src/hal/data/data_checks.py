"""What `hal server` would refuse of a ``[data]`` table's places, told before it makes anything: its home (hal.db,
the token, the spool) was filled first and the server then stopped on a cache folder it could not make, a catalog
that is a folder, or stage-outs filed under a location no copy can have (QA). Nothing here leaves a file behind."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hal.data.locations import bad_location, unknown_domain

# file systems of the kernel's own entries: a folder cannot be made there (/proc says 'No such file or directory')
PSEUDO = {"proc", "sysfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs", "tracefs", "pstore", "bpf",
          "configfs", "fusectl", "efivarfs", "binfmt_misc", "mqueue", "nsfs"}  # fmt: skip


def check_output_location(table: dict[str, Any], nodes: Iterable[str], topology: Any) -> str:
    """``output_location``: the catalog location a published output's copy is filed under, as ``hal dataset add
    --location`` takes one (a name or level=label of the cluster's tree), never a node (its cache replica is the
    other copy, and would replace it). It was taken as str() of anything, 5 as "5"."""
    where = table.get("output_location", "origin")
    said = f"[data] output_location = {where!r}"
    if (why := bad_location(where, said)) is not None:
        raise ValueError(why)
    assert isinstance(where, str)
    if where in set(nodes):
        raise ValueError(f"{said} is a node: its cache holds the output's other copy; name storage (origin, site=...)")
    if (why := unknown_domain(topology, where, said)) is not None:
        raise ValueError(why)
    return where


def check_catalog(path: Path) -> None:
    """The catalog file: its folder must exist and take its lock file, and a file already there must load (a
    folder there was refused only after the home was made, with a ``cat.json.lock`` left beside it)."""
    from hal.data.catalog import Catalog

    Catalog.check_folder(path)
    lock = path.with_name(path.name + ".lock")
    if not lock.is_file() and (why := _try_file(path.parent)):  # tried: the OS's reason, not a guess
        raise ValueError(f"[data] catalog {path}: cannot make its lock file {lock}: {why}")
    if lock.exists() and not lock.is_file():
        raise ValueError(f"[data] catalog {path}: its lock file {lock} is not a file")
    if path.exists():
        Catalog(path)  # reads it, as the server's start does: a folder or a file of something else is refused


def check_cache_folders(pattern: str, folders: Iterable[Path], others: Iterable[Path] = ()) -> None:
    """The cache folders can be made, or are folders this server may write in, on a file system that takes folders:
    refused when none of the nodes' ``folders`` can (a wrong path) or any of ``others`` (the default stage-out one)
    cannot. One node's broken folder is no reason to refuse: the server drains that node with the OS's reason
    (hal/data/start_faults.py). The message is the one the server gave when it tried."""
    seen: dict[Path, str] = {}
    nodes = list(dict.fromkeys(folders))
    whys = [_unmakeable(folder, seen) for folder in nodes]
    if nodes and all(whys):
        raise ValueError(f"[data] cache_dir {pattern!r}: cannot use {whys[0]}")
    for folder in dict.fromkeys(others):
        if why := _unmakeable(folder, seen):
            raise ValueError(f"[data] cache_dir {pattern!r}: cannot use {why}")


def _unmakeable(folder: Path, seen: dict[Path, str]) -> str:
    """'path: why' when ``folder`` cannot be a folder of this server's, or ''. Each place is tried (a file made in
    it, or its first missing folder made) and undone: the OS's own reason, where ``os.access`` said "Permission
    denied" of a read-only disk (QA)."""
    if folder.exists():
        if not folder.is_dir():
            return f"{folder}: a file stands where its folder should be"
        if folder not in seen:
            seen[folder] = _try_file(folder)
        return f"{folder}: {seen[folder]}" if seen[folder] else ""
    missing = folder
    while not missing.parent.exists() and missing.parent != missing:
        missing = missing.parent
    if missing not in seen:
        seen[missing] = _try_folder(missing)
    why = seen[missing]
    if why == os.strerror(errno.ENOTDIR):  # the kernel names the full path: it cannot go through a file
        return f"{folder}: {why}"
    return f"{missing}: {why}" if why else ""


def _try_file(folder: Path) -> str:
    """Why no file can be written in the folder ``folder`` (one is made and removed), or ""."""
    try:
        fd, made = tempfile.mkstemp(prefix=".hal-check-", dir=folder)
    except OSError as exc:
        return str(exc.strerror)
    os.close(fd)
    os.unlink(made)
    return ""


def _try_folder(missing: Path) -> str:
    """Why the folder ``missing``, whose parent exists, cannot be made (it is made and removed), or ""."""
    kind = _fs_type(missing.parent) if missing.parent.is_dir() else ""
    try:
        missing.mkdir()
    except OSError as exc:
        said = str(exc.strerror)
        return f"{said} ({missing.parent} is the kernel's {kind} file system)" if kind in PSEUDO else said
    missing.rmdir()
    return ""


def _fs_type(path: Path) -> str:
    """The file system type ``path`` is on (the longest mount point above it), "" when unknown (no Linux)."""
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    real, best, kind = os.path.realpath(path), "", ""
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind
