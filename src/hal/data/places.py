"""Where a dataset, the catalog or the outputs may be kept: never inside a node cache (HAL evicts and replaces what
is there, so a copy kept there vanishes without the catalog knowing; QA: an origin registered under a cache folder,
the published output's only origin and the catalog's lock file were evicted, and readers failed "source
missing"), never in the server process's own memory (``memory://``: gone at a restart), and never a relative
``file://`` path (it names a file relative to the server's folder, not the client's). Nor is the catalog a
dataset, nor anything in the server's home or its database (QA: the admin token was registered and every user's
job could read it through the catalog)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PROCESS_LOCAL = ("memory",)  # fsspec file systems held in the server process: nothing there outlives it


def _parts(uri: str) -> list[str]:
    return [p for p in uri.split("::") if p]


def _protocol(part: str) -> str:
    return part.split("://", 1)[0].lower() if "://" in part else "file"


def local_path(uri: str) -> str | None:
    """The local path ``uri`` reads (the last part of a chained URL: the file under its caches or archive), or
    None when it is not on a local file system."""
    parts = _parts(uri)
    if not parts:
        return None
    last = parts[-1]
    if "://" not in last:
        return last
    proto, rest = last.split("://", 1)
    return rest if proto.lower() in ("file", "local") else None


def relative(uri: str) -> str:
    """Why ``uri`` names a local file relative to the server's folder, or ""."""
    path = local_path(uri)
    if path is None or path.startswith("/"):
        return ""
    return f"{uri!r} is a relative path (to the server's folder, not yours): give an absolute path (file:///...)"


def process_local(uri: str) -> str:
    """Why ``uri`` is in the server process's own memory, or ""."""
    if any(_protocol(p) in PROCESS_LOCAL for p in _parts(uri)):
        return (
            f"{uri!r} is in the server process's memory: gone when it restarts (readers then fail 'source "
            "missing'); give storage that outlives the server"
        )
    return ""


def in_cache(uri: str, roots: Iterable[Path]) -> str:
    """Why the local path ``uri`` reads lies in a node cache folder, or holds one, or ""."""
    path = local_path(uri)
    if path is None:
        return ""
    real = Path(os.path.realpath(path))
    for root in roots:
        top = Path(os.path.realpath(root))
        if real.is_relative_to(top):
            return f"{uri} is in the node cache {root}: HAL evicts and replaces what is there"
        if top.is_relative_to(real):
            return f"{uri} holds the node cache {root}: HAL evicts and replaces what is there"
    return ""


def the_catalog(uri: str, catalog: Path | None) -> str:
    """Why the local path ``uri`` reads is the server's catalog file, its lock or the temporary file it is saved
    through, or a folder holding them, or "". QA: the catalog itself was registered as a dataset; it changes with
    each registration, and it is owner-only (its addresses may hold credentials) where a cached copy is not."""
    path = local_path(uri)
    if path is None or catalog is None:
        return ""
    real = Path(os.path.realpath(path))
    for own in (catalog, catalog.with_name(catalog.name + ".lock"), catalog.with_suffix(".tmp")):
        top = Path(os.path.realpath(own))
        if real == top or top.is_relative_to(real):
            what = "is" if real == top else "holds"
            return f"{uri} {what} the server's catalog file {own}: it changes with every registration and is private"
    return ""


def server_places(home: Path | None, store_url: str) -> list[Path]:
    """The server's private places: its home (admin token, job-token key, SQLite database, spool) and its SQLite
    database wherever ``--database`` put it, with the journal files beside it."""
    places = [home] if home is not None else []
    if store_url.startswith("sqlite:///"):
        db = Path(store_url.removeprefix("sqlite:///"))
        places += [db, *(db.with_name(db.name + end) for end in ("-wal", "-shm", "-journal", ".lock"))]
    return places


def the_servers(uri: str, private: Iterable[Path]) -> str:
    """Why the local path ``uri`` reads is (or is inside, or holds) one of the server's ``private`` places, or
    "": once registered, any user's job reads it in $HAL_DATA."""
    path = local_path(uri)
    if path is None:
        return ""
    real = Path(os.path.realpath(path))
    for own in private:
        top = Path(os.path.realpath(own))
        if real.is_relative_to(top) or top.is_relative_to(real):
            what = "is inside" if real != top and real.is_relative_to(top) else "is" if real == top else "holds"
            return (
                f"{uri} {what} the server's {'home' if own.is_dir() else 'database'} {own}: its admin token, "
                "job-token key, database and spool are private to the server (every user's job could read them)"
            )
    return ""


def dataset_uri(uri: str, roots: Iterable[Path], catalog: Path | None = None, private: Iterable[Path] = ()) -> str:
    """Why ``uri`` cannot be a dataset's registered copy (``hal dataset add``), or "": ``catalog`` is the
    server's catalog file (``Catalog.path``), never one; nor are the server's ``private`` places
    (``server_places``)."""
    why = relative(uri) or process_local(uri) or in_cache(uri, roots) or the_catalog(uri, catalog)
    return why or the_servers(uri, private)


def check_config(table: dict[str, Any], roots: list[Path]) -> None:
    """``[data] catalog`` and ``output_uri`` kept out of the node caches (``roots``), said at start."""
    if table.get("catalog") and (why := in_cache(str(table["catalog"]), roots)):
        raise ValueError(f"[data] catalog: {why}; keep the catalog outside every cache_dir")
    if "output_uri" in table:
        sample = str(table["output_uri"]).format(name="NAME", job="1")  # placeholders checked already
        if why := in_cache(sample, roots):
            raise ValueError(
                f"[data] output_uri = {table['output_uri']!r}: {why}; outputs are published there and must outlive "
                "the cache"
            )
