"""What `hal server` would refuse of a ``[data]`` table's places, told before it makes anything: its home (hal.db,
the token, the spool) was filled first and the server then stopped on a cache folder it could not make, a catalog
that is a folder, or stage-outs filed under a location no copy can have (QA). Nothing here creates a file."""

from __future__ import annotations

import os
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
    if not os.access(path.parent, os.W_OK | os.X_OK) and not lock.is_file():
        raise ValueError(f"[data] catalog {path}: cannot make its lock file {lock}: Permission denied")
    if lock.exists() and not lock.is_file():
        raise ValueError(f"[data] catalog {path}: its lock file {lock} is not a file")
    if path.exists():
        Catalog(path)  # reads it, as the server's start does: a folder or a file of something else is refused


def check_cache_folders(pattern: str, folders: Iterable[Path]) -> None:
    """Each cache folder (and the default stage-out one) can be made, or is a folder: the nearest existing one
    above it is a folder this server may write in, on a file system that takes folders. The message is the one
    the server gave when it tried."""
    seen: dict[Path, str] = {}
    for folder in dict.fromkeys(folders):
        why = _unmakeable(folder, seen)
        if why:
            raise ValueError(f"[data] cache_dir {pattern!r}: cannot use {why}")


def _unmakeable(folder: Path, seen: dict[Path, str]) -> str:
    """'path: why' when ``folder`` cannot be a folder of this server's, or ''."""
    if folder.exists():
        if not folder.is_dir():
            return f"{folder}: a file stands where its folder should be"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"{folder / '.hal-owner.lock'}: Permission denied"
        return ""
    missing = folder
    while not missing.parent.exists() and missing.parent != missing:
        missing = missing.parent
    top = missing.parent
    if top not in seen:
        seen[top] = _why_not_in(top)
    why = seen[top]
    if why == "Not a directory":  # the kernel names the full path: it cannot go through a file
        return f"{folder}: {why}"
    return f"{missing}: {why}" if why else ""


def _why_not_in(top: Path) -> str:
    """Why no folder can be made in the existing ``top``, or ""."""
    if not top.is_dir():
        return "Not a directory"
    kind = _fs_type(top)
    if kind in PSEUDO:
        return f"No such file or directory ({top} is the kernel's {kind} file system)"
    if os.statvfs(top).f_flag & os.ST_RDONLY:
        return "Read-only file system"
    if not os.access(top, os.W_OK | os.X_OK):
        return "Permission denied"
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
