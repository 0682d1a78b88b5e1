"""Whose fault a failed copy into a node cache is, and how its reason reads: the source's copy (bad or gone,
so that replica is forgotten) or the cache's own side (a partial copy gone missing under it)."""

from __future__ import annotations

from hal.data.catalog import Replica, public_uri


class ChecksumMismatch(ValueError):
    pass


def source_fault(exc: Exception) -> bool:
    """The source's copy is bad or gone (not this node's cache failing to take it)."""
    if isinstance(exc, ChecksumMismatch):
        return True
    return isinstance(exc, FileNotFoundError) and not _ours(exc)


def why(exc: Exception, rep: Replica) -> str:
    """The reason the job's owner reads: the address without its credentials (see ``public_uri``)."""
    if isinstance(exc, FileNotFoundError) and _ours(exc):
        return f"cannot write into the node cache: {exc.strerror}: {exc.filename}"  # not the source's fault
    if isinstance(exc, FileNotFoundError):
        return f"source missing: {public_uri(rep.uri)}"
    return (str(exc) or type(exc).__name__).replace(rep.uri, public_uri(rep.uri))


def _ours(exc: OSError) -> bool:
    """A file missing on the cache's side: the partial copy, or a file or folder inside a tree's partial copy."""
    name = str(exc.filename or "")
    return name.endswith(".partial") or ".partial/" in name
