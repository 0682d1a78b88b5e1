"""``[data]`` paths read as ``[topology] slurm_conf`` is: a relative ``catalog``, ``cache_dir`` or local
``output_uri`` from the cluster file's folder (they were taken from the folder `hal server` ran in, so the same
file started from another folder, or by a service manager from ``/``, put the caches and catalog elsewhere and
found none of its datasets), and ``~`` as the user's home (it made a folder named ``~``). A relative ``file://``
URL is refused instead, as `hal dataset add` refuses one (hal/data/places.py): fsspec reads it from the server's
folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hal.data.places import local_path

PATH_KEYS = ("catalog", "cache_dir", "output_uri")


def anchored(table: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The table with its local relative paths made absolute under ``folder`` (resolved: a message names
    ``/site/state``, not ``/site/conf/../state``); URLs and other values as given."""
    out = dict(table)
    for key in PATH_KEYS:
        value = out.get(key)
        if not isinstance(value, str) or not value or "://" in value:
            continue
        path = _expanded(key, value)
        out[key] = str(path if path.is_absolute() else (folder.absolute() / path).resolve())
    return out


def relative_url(key: str, value: str) -> str:
    """Why ``value``, a URL, names a local file relative to the server's folder (``file://results/{name}``), or
    "": neither anchored to the cluster file's folder nor checked against the caches (QA)."""
    path = local_path(value)
    if "://" not in value or path is None or path.startswith("/"):
        return ""
    return (
        f"[data] {key} = {value!r} is a relative file URL, read from the folder the server runs in: give an "
        "absolute one (file:///...) or a plain path, read from the cluster file's folder"
    )


def _expanded(key: str, value: str) -> Path:
    """``value`` with ``~`` or ``~user`` expanded; ValueError naming the key when there is no such home (it was a
    RuntimeError's traceback at start)."""
    try:
        return Path(value).expanduser()
    except RuntimeError:
        user = value[1:].split("/", 1)[0]
        home = f"no user {user!r} on this machine" if user else "no home folder for this user"
        raise ValueError(f"[data] {key} = {value!r}: {home} to expand '~{user}' to") from None
