"""Where a server keeps its state: one function, in a module of its own so that commands needing only the path
(`hal token create`) do not import the whole server (fastapi, uvicorn, alembic: about 2 s per command)."""

from __future__ import annotations

import os
from pathlib import Path


def hal_home() -> Path:
    return Path(os.environ.get("HAL_HOME") or Path.home() / ".hal")
