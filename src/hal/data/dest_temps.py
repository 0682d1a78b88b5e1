"""The temporary names a stage-out uses at its destination: the copy under way (``PARTIAL``) and an earlier folder
moved aside while the new one takes its place (``ASIDE``). Each is the destination's path with a suffix holding
'~', which no dataset name can (letters, digits, '_', '-', '.'), so no other output's destination is ever one of
them: with ``x.partial-1`` and ``x.old-1-2`` valid names, the former ``.partial-``/``.old-`` suffixes made a stage-out
of ``x`` delete the first's origin and move the second's onto its own path (QA). Clean-up takes only names of
exactly this form, listed from the destination's folder (no glob: a '[' in a path is a pattern there).

Temporaries of the former form (``x.partial-PID-TID``, ``x.old-PID-TID``) are no longer looked for: they cannot be
told from datasets. A server killed mid-copy by an older version leaves such a file beside the output (harmless:
its next start copies the output again under the new names)."""

from __future__ import annotations

import os
import posixpath
import re
import threading
from typing import Any

PARTIAL = "~partial"  # a copy under way, renamed onto the destination once it is whole
ASIDE = "~old"  # an earlier folder moved aside, deleted once the new one is in place (else put back)


def temp_name(path: str, kind: str) -> str:
    """This process and thread's temporary of ``kind`` for the destination ``path``."""
    return f"{path}{kind}-{os.getpid()}-{threading.get_ident()}"


def temps_of(fs: Any, path: str, kind: str) -> list[str]:
    """The temporaries of ``kind`` any stage-out left for ``path`` on ``fs``, sorted (none when its folder is not
    there)."""
    parent = posixpath.dirname(path.rstrip("/")) or getattr(fs, "root_marker", "") or "/"
    ours = re.compile(re.escape(posixpath.basename(path.rstrip("/"))) + re.escape(kind) + r"-\d+-\d+")
    fs.invalidate_cache(parent)  # a listing cached before a copy landed (FTP, object stores) would miss it
    try:  # with detail: fsspec's FTP backend gives bare names without it, not paths
        listed = [str(entry["name"]) for entry in fs.ls(parent, detail=True)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(p for p in listed if ours.fullmatch(posixpath.basename(p.rstrip("/"))))


def remove(fs: Any, path: str) -> None:
    """A file removed as a file, a folder with what it holds: fsspec's FTP backend failed a recursive removal of
    a file ("550 Not a directory"), which turned a finished job FAILED at a restart's clean-up (QA)."""
    if fs.isdir(path):
        fs.rm(path, recursive=True)
    else:
        fs.rm(path)
