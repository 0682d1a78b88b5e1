"""A running job's own API token, in its environment as HAL_TOKEN (with HAL_HOME, where `hal` finds the server):
`hal submit`, `hal queue` or the SDK inside a job act as the job's user, as Slurm's commands inside a job do.
Without one they fell back to the token file in HAL_HOME, so a job of a user who submitted over the REST API
with their own token acted as the server's admin, and jobs it submitted were the admin's (QA).

The token is ``hal_job_<id>_<attempt>_<mac>``: an HMAC of the job id and its attempt (Restarts) under a key kept in
HAL_HOME (``job-token.key``, 0600), so nothing is stored per job. It is accepted only while that attempt of the job
is RUNNING: it stops working when the job ends or is requeued, and a restarted server honours the tokens of the
jobs it finds still running. It carries no more than its user holds: once every token of that user is revoked, their
running jobs' tokens stop working too (QA: a revoked user's job went on submitting jobs)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any

from hal.controller.auth import Identity

KEY_FILE = "job-token.key"
PREFIX = "hal_job_"
_FORM = re.compile(r"hal_job_(0|[1-9]\d{0,17})_(0|[1-9]\d{0,8})_([0-9a-f]{40})")  # one spelling per token


def load_key(home: Path) -> bytes:
    """The server's job-token key, made on first use; a restart keeps it, so running jobs keep their tokens."""
    path = home / KEY_FILE
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        if len(key) >= 32:
            return key
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    os.chmod(path, 0o600)
    return key


class JobTokens:
    """Issues and checks job tokens; ``store`` answers whose job it is and whether that attempt still runs."""

    def __init__(self, key: bytes, store: Any) -> None:
        self.key, self.store = key, store

    def _mac(self, job_id: int, attempt: int) -> str:
        return hmac.new(self.key, f"{job_id}:{attempt}".encode(), hashlib.sha256).hexdigest()[:40]

    def issue(self, job_id: int, attempt: int) -> str:
        return f"{PREFIX}{job_id}_{attempt}_{self._mac(job_id, attempt)}"

    def env(self, job_id: int, attempt: int, home: Path) -> dict[str, str]:
        """What a launched job's environment gets: its token, and the server's home (server.json gives its address,
        and a restarted server's new one)."""
        return {"HAL_TOKEN": self.issue(job_id, attempt), "HAL_HOME": str(home)}

    def identify(self, token: str) -> Identity | None:
        """The job's user for a valid token of a running attempt whose user still holds a token; None otherwise.
        Admin when that user holds an admin token (the local user who started the server), as their own commands
        would be."""
        found = _FORM.fullmatch(token)
        if found is None:
            return None
        job_id, attempt = int(found.group(1)), int(found.group(2))
        if not hmac.compare_digest(found.group(3), self._mac(job_id, attempt)):
            return None
        row = self.store.get(job_id)
        if row is None or row.get("state") != "RUNNING" or int(row.get("restarts") or 0) != attempt:
            return None
        user = str(row["user"])
        held = [bool(t.get("admin")) for t in self.store.list_tokens() if str(t["user"]) == user]  # a few rows
        return Identity(user, any(held)) if held else None
