"""Where the catalog's copies are, by comparable address, so the overwrite guard (``hal.data.destination``) looks up
a destination's own address, its parents and what lies beneath it instead of resolving every dataset's and
replica's address on every stage-out (~76 µs each: 10,000 datasets cost 0.75 s of CPU per output, growing over a
site's life). Addresses are resolved when a copy is added (a local path with its links as they were then)."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Iterator

Spot = tuple[str, str]  # (protocol, path): where()
Entry = tuple[str, str, str]  # (dataset, location, uri); location "" for a dataset's own address

DATASET = ""  # the location of a dataset's own address (its origin, whatever location it was registered at)


def where(uri: str) -> Spot:
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


def _parents(spot: Spot) -> Iterator[Spot]:
    proto, path = spot
    while (up := posixpath.dirname(path)) not in (path, ""):
        yield proto, up
        path = up


class Spots:
    """Each copy's address: the entries at it, and the addresses beneath each folder that holds one."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._at: dict[Spot, set[Entry]] = {}
        self._below: dict[Spot, set[Spot]] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> None:
        spot = where(entry[2])
        self._at.setdefault(spot, set()).add(entry)
        for up in _parents(spot):
            self._below.setdefault(up, set()).add(spot)

    def remove(self, entry: Entry) -> None:
        spot = where(entry[2])
        entries = self._at.get(spot)
        if entries is None or entry not in entries:
            return
        entries.discard(entry)
        if entries:
            return
        del self._at[spot]
        for up in _parents(spot):
            below = self._below.get(up)
            if below is not None:
                below.discard(spot)
                if not below:
                    del self._below[up]

    def overlapping(self, spot: Spot) -> list[tuple[Spot, Entry]]:
        """Copies at ``spot``, in a folder above it, or beneath it (a folder dataset), sorted."""
        spots = {spot, *_parents(spot), *self._below.get(spot, ())}
        return sorted((s, e) for s in spots for e in self._at.get(s, ()))
