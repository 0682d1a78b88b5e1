"""Folder datasets (shards, checkpoints): a tree of regular files, measured and compared by one digest.

A folder dataset's checksum is ``sha256-tree:<hex>``, the sha256 of one record per regular file, the records
sorted by relative path::

    <relative path, '/'-separated, UTF-8> NUL <size in bytes, decimal> NUL <sha256 of the file, hex> LF

so it does not depend on the order files are listed or copied in, and changes with any byte, name or place in
the tree (NUL is in no file name and the hex has a fixed length: no two trees give the same records). Folders
themselves, empty ones too, are not part of it; a link inside the folder to a file inside it counts as that
file. A tree holds at least one file, and nothing the server must not read: a link leading out of the folder
(it could name any file the server can read), to a folder (a loop), to nothing, or a device, pipe or socket
(/dev/zero read forever) is refused, naming it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TREE = "sha256-tree:"
SEALED_DIR = 0o555  # a cached tree's folders: nothing added to or removed from the copy jobs read
SEALED_FILE = 0o444


@dataclass(frozen=True, slots=True)
class TreeFile:
    rel: str  # its path inside the tree, '/'-separated
    path: str  # what the file system opens (a link inside the folder: its target)
    size: int


def is_tree(checksum: str) -> bool:
    return checksum.startswith(TREE)


def tree_digest(files: Iterable[tuple[str, int, str]]) -> str:
    """The one definition of a tree's digest (see the module's docstring): ``files`` as (relative path, size,
    sha256 hex of the file), in any order."""
    digest = hashlib.sha256()
    for rel, size, hexdigest in sorted(files, key=lambda f: f[0]):
        digest.update(b"%s\0%d\0%s\n" % (rel.encode("utf-8", "surrogateescape"), size, hexdigest.encode()))
    return TREE + digest.hexdigest()


def list_tree(fs: Any, root: str, shown: str) -> list[TreeFile]:
    """The regular files of the folder ``root`` on ``fs``, sorted; ``shown`` names it in refusals (the address
    without credentials)."""
    from fsspec.implementations.local import LocalFileSystem

    from hal.data.storage import unwrapped

    files = _local(root, shown) if isinstance(unwrapped(fs), LocalFileSystem) else _listed(fs, root, shown)
    if not files:
        raise ValueError(f"{shown} is an empty folder: a folder dataset holds at least one file")
    return sorted(files, key=lambda f: f.rel)


def _local(root: str, shown: str) -> list[TreeFile]:
    top = os.path.realpath(root)
    files: list[TreeFile] = []
    stack = [(top, "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel, mode = prefix + entry.name, entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISLNK(mode):
                    files.append(_link(entry.path, top, rel, shown))
                elif stat.S_ISDIR(mode):
                    stack.append((entry.path, rel + "/"))
                elif stat.S_ISREG(mode):
                    files.append(TreeFile(rel, entry.path, entry.stat(follow_symlinks=False).st_size))
                else:
                    raise ValueError(f"{shown}: {rel} is a device, pipe or socket; a folder dataset holds files")
    return files


def _link(path: str, top: str, rel: str, shown: str) -> TreeFile:
    """A link inside the folder: read as the file it names, which must be a regular file inside the folder."""
    target = os.path.realpath(path)
    if target != top and not target.startswith(top + os.sep):
        raise ValueError(f"{shown}: {rel} is a link to {target}, outside the folder")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise ValueError(f"{shown}: {rel} is a link to nothing ({target})") from None
    except OSError as exc:  # links naming each other: realpath gives up, stat raised a raw ELOOP (QA)
        what = "in a loop of links" if exc.errno == errno.ELOOP else f"that cannot be followed ({exc.strerror})"
        raise ValueError(f"{shown}: {rel} is a link {what}; only links to files are followed") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{shown}: {rel} is a link to a folder, device or pipe; only links to files are followed")
    return TreeFile(rel, target, st.st_size)


def _listed(fs: Any, root: str, shown: str) -> list[TreeFile]:
    """Another file system's listing (an object store's keys under a prefix). A key with '..' or an empty part
    would be written outside the copy's folder in a node cache: refused."""
    base = root.rstrip("/") + "/"
    files = []
    for path, info in fs.find(root, withdirs=False, detail=True).items():
        rel = path[len(base) :] if path.startswith(base) else posixpath.relpath(path, root)
        if any(part in ("", ".", "..") for part in rel.split("/")):
            raise ValueError(f"{shown}: {rel!r} cannot be a file's path inside a folder")
        if info.get("type", "file") != "file":
            raise ValueError(f"{shown}: {rel} is not a regular file")
        files.append(TreeFile(rel, path, int(info.get("size") or 0)))
    return files


def read_sha256(
    fs: Any, path: str, limit: int | None, shown: str, chunk_size: int, tick: Callable[[], None] | None = None
) -> tuple[str, int]:
    """sha256 hex and size of one file read in chunks, no further than ``limit`` bytes (a file still growing is not
    the one that was listed; /dev/zero would be read forever); ``tick`` after each chunk tells a watcher it moves."""
    digest, size = hashlib.sha256(), 0
    with fs.open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                raise ValueError(f"{shown} grew while it was read (past {limit:,} bytes)")
            if tick is not None:
                tick()
    return digest.hexdigest(), size


def hash_file(fs: Any, item: TreeFile, shown: str, chunk_size: int) -> tuple[str, int]:
    """sha256 hex and size of one file of a tree, read no further than the size it was listed with."""
    return read_sha256(fs, item.path, item.size, f"{shown}: {item.rel}", chunk_size)


def tree_checksum(fs: Any, root: str, shown: str, chunk_size: int) -> tuple[str, int]:
    """("sha256-tree:<hex>", total bytes of its files) of the folder ``root`` on ``fs``."""
    records = []
    for item in list_tree(fs, root, shown):
        hexdigest, size = hash_file(fs, item, shown, chunk_size)
        records.append((item.rel, size, hexdigest))
    return tree_digest(records), sum(r[1] for r in records)


def seal(path: Path) -> None:
    """A copy made read-only: a file's mode; a tree's files and folders too, so nothing is added to it."""
    if not path.is_dir() or path.is_symlink():
        path.chmod(SEALED_FILE)
        return
    for folder, _, names in os.walk(path, topdown=False):
        for name in names:
            os.chmod(os.path.join(folder, name), SEALED_FILE)
        os.chmod(folder, SEALED_DIR)


def unshare(path: Path, tick: Callable[[], None] | None = None) -> None:
    """An output's files that are hard links (more than one name: a file outside the job's folder, a dataset's
    origin, a cached copy) replaced by copies of their own, before it is sent: sealing and publishing it into the
    cache reached the other name's file (QA: `ln /tmp/mine.txt $HAL_DATA/out` made mine.txt read-only, and the
    cached copy shared its inode). ``tick`` after each chunk copied."""
    if path.is_symlink():
        return
    if not path.is_dir():
        _own(path, tick)
        return
    for folder, _, names in os.walk(path):
        for name in names:
            _own(Path(folder) / name, tick)


def _own(path: Path, tick: Callable[[], None] | None) -> None:
    st = path.lstat()
    if not stat.S_ISREG(st.st_mode) or st.st_nlink < 2:
        return
    tmp = path.with_name(f".{path.name}.unsharing")
    try:
        with path.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
                if tick is not None:
                    tick()
        tmp.replace(path)  # the job's name now holds its own file; the other names keep theirs, untouched
    finally:
        tmp.unlink(missing_ok=True)


def bytes_in(path: Path) -> int:
    """The bytes of a file, or of the files under a folder (links not followed); 0 for what is gone."""
    try:
        if not path.is_dir() or path.is_symlink():
            return path.lstat().st_size
        return sum((Path(top) / f).lstat().st_size for top, _, files in os.walk(path) for f in files)
    except OSError:
        return 0


def remove_path(path: Path) -> None:
    """A copy deleted, file or tree (a sealed tree's folders made writable first); gone already is fine."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o755)
    import shutil

    shutil.rmtree(path)


def resolve_links(path: Path) -> None:
    """An output tree's links inside it (checked by ``list_tree``) replaced by copies of the files they name,
    so the copy published into the cache holds only regular files, as a staged copy does."""
    import shutil

    for folder, _, names in os.walk(path):
        for name in names:
            link = Path(folder) / name
            if link.is_symlink():
                tmp = link.with_name(f".{name}.resolving")
                shutil.copyfile(link.resolve(), tmp)
                tmp.replace(link)
