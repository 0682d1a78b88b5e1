"""Whether a stage-out may write at its destination: never over another dataset's registered copy (its origin, a
stored copy, or a folder holding or inside one), and never over a file no dataset names unless it already holds
the very bytes being sent (a restart's catch-up redoing a copy that had landed). QA: with output_uri
"/tmp/src/{name}" a job's output overwrote dataset a's only origin and every later stage-in of a failed its
checksum, with no warning. An output forgotten with ``hal dataset rm`` may be written again where it was (the
catalog remembers where it was: ``Catalog.released``)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from hal.data.catalog import Catalog, checksum_of, public_uri


def where(uri: str) -> tuple[str, str]:
    """A comparable address: the file system's protocol and its path (a local one with its links resolved)."""
    try:
        import fsspec
        from fsspec.implementations.local import LocalFileSystem

        fs, path = fsspec.core.url_to_fs(uri)
    except Exception:  # a backend not installed (s3fs), a malformed address: compared as written
        return "", uri.rstrip("/")
    if isinstance(fs, LocalFileSystem):
        return "file", os.path.realpath(path)
    proto = fs.protocol[0] if isinstance(fs.protocol, tuple) else fs.protocol
    return str(proto), str(path).rstrip("/")


def _overlap(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """The same file, or one inside the other (a folder dataset)."""
    return a[0] == b[0] and (a[1] == b[1] or a[1].startswith(b[1] + "/") or b[1].startswith(a[1] + "/"))


def _stored(catalog: Catalog, nodes: Iterable[str]) -> list[tuple[str, str]]:
    """(dataset, uri) of every copy kept in storage (its origin, copies added): not the node caches' own copies."""
    skip = set(nodes)
    found = [(name, d.uri) for name, d in list(catalog.datasets.items())]
    for name in list(catalog.datasets):
        found += [(name, r.uri) for r in catalog.replicas_of(name) if r.location not in skip]
    return found


def claimed_by(catalog: Catalog, name: str, dest_uri: str, nodes: Iterable[str]) -> str:
    """Why output ``name`` may not be written at ``dest_uri``, or "": it is (or holds, or lies inside) a copy of
    another dataset."""
    dest = where(dest_uri)
    for other, uri in _stored(catalog, nodes):
        if other != name and _overlap(dest, spot := where(uri)):
            what = "is" if spot == dest else "holds" if spot[1].startswith(dest[1] + "/") else "is inside"
            return (
                f"the destination {public_uri(dest_uri)} {what} a registered copy of dataset {other!r} "
                f"({public_uri(uri)}); an output never overwrites another dataset (check the server's output_uri)"
            )
    return ""


def unknown_there(catalog: Catalog, name: str, dest_uri: str, digest: str) -> str:
    """Why an existing file or folder at ``dest_uri`` may not be replaced, or "": it is a copy of ``name`` the
    catalog names, or an earlier output of that name forgotten since (``hal dataset rm``, then the job run again),
    or it already holds ``digest``. Called only when something is there."""
    dest = where(dest_uri)
    if any(where(r.uri) == dest for r in catalog.replicas_of(name)):
        return ""
    if any(n == name and where(uri) == dest for uri, n in list(catalog.released.items())):
        return ""
    try:
        if checksum_of(dest_uri)[0] == digest:
            return ""
    except (OSError, ValueError):
        pass
    return (
        f"the destination {public_uri(dest_uri)} already holds data no dataset names; an output never overwrites it "
        "(remove it to write there)"
    )
