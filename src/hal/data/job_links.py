"""A job's inputs as hard links to the node's cached copies, and the stamp that tells whether a copy is still what
HAL cached. The job runs as the server's user, so it can write a cached file through its link and put the mtime
back (QA: the next job on the node, any user's, read the changed bytes, and a tree's files could be swapped
unseen). The inodes' change times it cannot put back, so the stamp holds them too (``META``); HAL's own links,
made and removed for each job, move them as well, so it stamps a copy again after its own (NodeCache.relinking)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

META = -1  # the stamp's item a hard link made or removed changes too (the inodes' change times and numbers)
Stamp = tuple[int, ...]


def stamp_of(path: Path) -> Stamp:
    """A file's (size, mtime, meta); a tree's (bytes of its files, files, its entries' names, sizes and mtimes,
    meta). The tree's own folder is left out: LRU touches it."""
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode):
        return (st.st_size, st.st_mtime_ns, hash((st.st_ctime_ns, st.st_ino)))
    return _tree_stamp((rel, entry.stat(follow_symlinks=False), is_dir) for rel, entry, is_dir in _entries(path))


def link_tree(source: Path, dest: Path) -> Stamp:
    """``dest`` mirrors the cached ``source``: its own folders, hard links to the files (symbolic ones where the
    file system has none); the job may add or remove entries in its mirror, the cached tree stays as it is.
    Returns the cached copy's stamp after the links (read from them, not by walking the copy again)."""
    if not source.is_dir():
        st = os.stat(dest) if _link_file(source, dest) else source.lstat()
        return (st.st_size, st.st_mtime_ns, hash((st.st_ctime_ns, st.st_ino)))
    dest.mkdir(parents=True, exist_ok=True)

    def linked() -> Iterator[tuple[str, os.stat_result, bool]]:
        for rel, entry, is_dir in _entries(source):
            here = dest / rel
            if is_dir:
                here.mkdir(exist_ok=True)
                yield rel, entry.stat(follow_symlinks=False), True
            else:
                hard = _link_file(Path(entry.path), here)
                yield rel, here.lstat() if hard else entry.stat(follow_symlinks=False), False

    return _tree_stamp(linked())


def names_in(folder: Path) -> list[str]:
    """The names in a job's folder: its inputs' links among them (``NodeCache.relinking`` keeps the cached ones)."""
    try:
        return [p.name for p in folder.iterdir()]
    except OSError:
        return []


def clear_job_folder(folder: Path, keep: tuple[str, ...]) -> None:
    """A job's folder removed, all but the outputs in ``keep`` (a file or a folder the job wrote, still to be
    staged out); nothing kept after all, the folder itself too."""
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for path in folder.iterdir() if folder.is_dir() else ():
        if path.name in keep and (path.is_file() or path.is_dir()) and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()


def _tree_stamp(entries: Iterator[tuple[str, os.stat_result, bool]]) -> Stamp:
    size = count = 0
    seen, meta = [], []
    for rel, st, is_dir in entries:
        if not is_dir:
            size, count = size + st.st_size, count + 1
        seen.append((rel, st.st_size, st.st_mtime_ns))
        meta.append((st.st_ctime_ns, st.st_ino))
    return (size, count, hash(tuple(seen)), hash(tuple(meta)))


def _entries(root: Path) -> Iterator[tuple[str, os.DirEntry[str], bool]]:
    """Every entry under ``root``, depth first in name order (the same order each time), with whether it is a
    folder (links are not followed)."""
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(root / rel if rel else root) as listing:
            items = sorted(listing, key=lambda e: e.name)
        folders = []
        for entry in items:
            is_dir = entry.is_dir(follow_symlinks=False)
            here = f"{rel}/{entry.name}" if rel else entry.name
            yield here, entry, is_dir
            if is_dir:
                folders.append(here)
        stack.extend(reversed(folders))


def _link_file(source: Path, dest: Path) -> bool:
    """A hard link (True), or a symbolic one where the file system has none."""
    try:
        os.link(source, dest)
        return True
    except OSError:
        dest.symlink_to(source)
        return False
