"""Where a session manager listens: a Unix socket in HAL's home, shortened when the home is too deep for one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MAX_UNIX_PATH = 100  # sun_path holds 108 bytes with its terminator


def home_address(home: Path) -> str:
    """htc.sock in ``home``, or a short path under /tmp named after it when ``home`` is too deep for a socket."""
    path = str(home / "htc.sock")
    if len(path.encode()) <= MAX_UNIX_PATH:
        return path
    digest = hashlib.sha1(str(home.resolve()).encode()).hexdigest()[:12]
    return f"/tmp/hal-htc-{os.getuid()}-{digest}.sock"


def default_address() -> str:
    """$HAL_HTC_ADDRESS, else the socket of $HAL_HOME (~/.hal), where `hal server` puts its session manager."""
    home = Path(os.environ.get("HAL_HOME") or Path.home() / ".hal")
    return os.environ.get("HAL_HTC_ADDRESS") or home_address(home)
