"""Whether a stage-out may write at its destination: never over another dataset's registered copy (its origin, a
stored copy, or a folder holding or inside one), and never over a file no dataset names unless it already holds
the very bytes being sent (a restart's catch-up redoing a copy that had landed). QA: with output_uri
"/tmp/src/{name}" a job's output overwrote dataset a's only origin and every later stage-in of a failed its
checksum, with no warning. An output forgotten with ``hal dataset rm`` may be written again where it was (the
catalog remembers where it was and whose it was: ``Catalog.released``), by a job of the user who owned it or of an
administrator only (QA: another user's job of the same output name silently replaced the first user's result)."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hal.data.catalog import CHUNK, Catalog, public_uri
from hal.data.spots import where
from hal.data.storage import storage_fs, unwrapped
from hal.data.tree import list_tree, read_sha256, tree_digest

log = logging.getLogger("hal.data")

# Flat key spaces: their "folders" are key prefixes, nothing to make, and makedirs may create a bucket there (a
# typo in output_uri would make one rather than fail).
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "oss", "r2"})


Writer = tuple[str, bool]  # the user whose job writes an output, and whether that user is an administrator


def writer_of(store: Any, job_id: int, user: str = "") -> Writer:
    """Job ``job_id``'s user (``user`` when known, else its record's) and whether that user holds an administrator's
    token now (a stage-out thread's read: the store is thread-safe)."""
    user = user or str((store.get(job_id) or {}).get("user", ""))
    return user, bool(user) and any(t["user"] == user and t["admin"] for t in store.list_tokens())


def _idle() -> None:
    """No watcher: nothing to report to."""


def claimed_by(catalog: Catalog, name: str, dest_uri: str, nodes: Iterable[str]) -> str:
    """Why output ``name`` may not be written at ``dest_uri``, or "": it is (or holds, or lies inside) a copy of
    another dataset kept in storage (its origin, a copy added; not the node caches' own copies). Looked up in the
    catalog's index by address (``hal.data.spots``), not by resolving every copy's address."""
    dest, skip = where(dest_uri), set(nodes)
    for spot, (other, location, uri) in catalog.overlapping(dest):
        if other != name and location not in skip:
            what = "is" if spot == dest else "holds" if spot[1].startswith(dest[1] + "/") else "is inside"
            return (
                f"the destination {public_uri(dest_uri)} {what} a registered copy of dataset {other!r} "
                f"({public_uri(uri)}); an output never overwrites another dataset (check the server's output_uri)"
            )
    return ""


def make_parent(fs: Any, path: str) -> None:
    """The folder a stage-out writes ``path`` into, made first: output_uri's ``{job}`` names a folder no one made.
    QA: every output to ``ftp://host/out/{job}/{name}`` failed with "550 No such file or directory"; only local
    files had theirs made, though FTP, SFTP, SMB and HDFS have folders too. Object stores have none and are left
    alone. Elsewhere a failure to make it (no permission, a backend with no folders that refuses makedirs) is
    logged, not raised: the copy says whether the folder was needed, and a backend that needs none still works."""
    from fsspec.implementations.local import LocalFileSystem  # here: a server without a data plane never loads it

    inner = unwrapped(fs)  # a StorageFS: the backend it wraps
    if isinstance(inner, LocalFileSystem):  # its errors (a file where the folder goes) are the copy's own
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return
    protocols = inner.protocol if isinstance(inner.protocol, (tuple, list)) else (inner.protocol,)
    parent = posixpath.dirname(path.rstrip("/"))
    if OBJECT_STORES.intersection(protocols) or parent in ("", "/"):
        return
    try:
        fs.makedirs(parent, exist_ok=True)
    except OSError as exc:  # a backend's own errors arrive as StorageError (an OSError)
        log.warning("could not make the folder %s for a stage-out (%s); writing there all the same", parent, exc)


def unknown_there(
    catalog: Catalog,
    name: str,
    dest_uri: str,
    digest: str,
    size: int = -1,
    tick: Callable[[], None] = _idle,
    writer: Writer = ("", False),
) -> str:
    """Why an existing file or folder at ``dest_uri`` may not be replaced, or "": it is a copy of ``name`` the
    catalog names, or an earlier output of that name forgotten since (``hal dataset rm``, then the job run again)
    whose owner is ``writer``'s user or ``writer`` an administrator, or it already holds ``digest`` (``size`` bytes,
    -1: unknown). Called only when something is there."""
    dest = where(dest_uri)
    if any(where(r.uri) == dest for r in catalog.replicas_of(name)):
        return ""
    forgotten = [owner for uri, (n, owner) in list(catalog.released.items()) if n == name and where(uri) == dest]
    user, admin = writer
    if forgotten and (admin or (user and user in forgotten)):
        return ""
    try:  # an error reading it (storage failing) is a failed copy, tried again, not a refusal
        if holds(dest_uri, digest, size, tick):
            return ""
    except ValueError:  # a tree holding a link out of it, a file that grew: not the bytes sent
        pass
    if forgotten:  # another user's: never named to this one
        return (
            f"the destination {public_uri(dest_uri)} holds another user's earlier output {name!r}, forgotten with "
            "hal dataset rm: only that user's jobs or an administrator's replace it (remove it to write there)"
        )
    return (
        f"the destination {public_uri(dest_uri)} already holds data no dataset names; an output never overwrites it "
        "(remove it to write there)"
    )


def holds(uri: str, digest: str, size: int, tick: Callable[[], None] = _idle) -> bool:
    """Whether ``uri`` holds the bytes of ``digest``: sizes compared first (no read), then read with ``tick`` after
    each chunk, so a stage-out's watcher sees progress (QA: a restart's catch-up hashing a large output that had
    landed took no tick for longer than stall_timeout, and failed at every start)."""
    fs, path = storage_fs(uri)  # a backend's own error: a failed copy (retried), not "not the same bytes"
    info = fs.info(path)
    if info.get("type") == "directory":
        files = list_tree(fs, path, public_uri(uri))
        if size >= 0 and sum(f.size for f in files) != size:
            return False
        return tree_digest((f.rel, f.size, _hash(fs, f.path, f.size, tick)) for f in files) == digest
    there = info.get("size")
    if info.get("type", "file") != "file" or (size >= 0 and there is not None and there != size):
        return False
    return f"sha256:{_hash(fs, path, there, tick)}" == digest


def _hash(fs: Any, path: str, limit: int | None, tick: Callable[[], None]) -> str:
    return read_sha256(fs, path, limit, path, CHUNK, tick)[0]
