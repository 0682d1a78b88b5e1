"""``[data]`` paths read as ``[topology] slurm_conf`` is: a relative ``catalog``, ``cache_dir`` or local
``output_uri`` from the cluster file's folder (they were taken from the folder `hal server` ran in, so the same
file started from another folder, or by a service manager from ``/``, put the caches and catalog elsewhere and
found none of its datasets), and ``~`` as the user's home (it made a folder named ``~``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PATH_KEYS = ("catalog", "cache_dir", "output_uri")


def anchored(table: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The table with its local relative paths made absolute under ``folder``; URLs and other values as given."""
    out = dict(table)
    for key in PATH_KEYS:
        value = out.get(key)
        if not isinstance(value, str) or not value or "://" in value:
            continue
        path = Path(value).expanduser()
        out[key] = str(path if path.is_absolute() else folder.absolute() / path)
    return out
