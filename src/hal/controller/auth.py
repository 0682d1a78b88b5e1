"""Bearer tokens: who a caller is and whether they are an admin; only a SHA-256 digest is ever stored."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hal.controller.store import Store

TOKEN_PREFIX = "hal_"
USER_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    admin: bool

    def may_see(self, owner: str) -> bool:
        return self.admin or owner == self.user


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user(user: str) -> None:
    if not user or len(user) > 64 or not set(user) <= USER_CHARS:
        raise ValueError(f"user name {user!r}: 1-64 characters from letters, digits, '.', '_' and '-'")


def create_token(store: Store, user: str, admin: bool = False, label: str = "") -> str:
    """A new random token for ``user``; the caller shows it once, the store keeps only its digest."""
    check_user(user)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.add_token(digest(token), user, admin, time.time(), label)
    return token


CACHE_SECONDS = 30.0  # a revoked token (hal token revoke) stops working within this time


class Authenticator:
    """Looks tokens up by digest, caching each answer for ``CACHE_SECONDS`` (a revoked token is removed from
    the database by another process, so the cache must not keep it forever)."""

    def __init__(self, store: Store, jobs: Any = None) -> None:
        self.store, self.jobs = store, jobs  # jobs: running jobs' own tokens (controller/job_tokens.py)
        self._cache: dict[str, tuple[Identity, float]] = {}

    def identify(self, token: str) -> Identity | None:
        if self.jobs is not None and token.startswith("hal_job_"):  # valid only while its job runs: not cached
            who: Identity | None = self.jobs.identify(token)
            return who
        key = digest(token)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[1] < CACHE_SECONDS:
            return hit[0]
        found = self.store.token(key)
        if found is None:
            self._cache.pop(key, None)
            return None
        known = Identity(*found)
        self._cache[key] = (known, time.monotonic())
        return known


def write_private(path: Path, text: str) -> None:
    """A file only its owner can read (token files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
