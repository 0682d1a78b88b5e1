"""A filesystem's whole size, asked of it at most once a minute: what a node cache can ever hold, whatever
cache_bytes says (a dataset larger is refused at submission; a stage-in that cannot land excludes the node)."""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path

_SIZES: dict[Path, tuple[float, int]] = {}  # root -> (monotonic time read, filesystem size)
SIZE_TTL = 60.0  # s a filesystem's size is reused: asked at every submission, it cost a statvfs per node cache
# under the controller's lock (review), and a filesystem's size seldom changes


def disk_total(root: Path) -> int:
    """The size of the filesystem ``root`` is on (its nearest existing folder), read at most once a minute; no
    bound when none can be read."""
    now = time.monotonic()
    seen = _SIZES.get(root)
    if seen is not None and now - seen[0] < SIZE_TTL:
        return seen[1]
    size = 1 << 62
    for folder in (root, *root.parents):
        with contextlib.suppress(OSError):
            size = shutil.disk_usage(folder).total
            break
    _SIZES[root] = (now, size)
    return size
