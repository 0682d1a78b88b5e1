"""The controller's outward contracts: errors it answers with, the metrics observer, array gates, receipts."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Protocol


class SubmitError(ValueError):
    """A submission refused with a message for the user (HTTP 400)."""


class NotFound(KeyError):
    """No such job (HTTP 404)."""


class Forbidden(PermissionError):
    """The job belongs to someone else (HTTP 403)."""


class Observer(Protocol):
    def cycle(self, seconds: float) -> None: ...

    def submitted(self, n: int) -> None: ...

    def ended(self, state: str) -> None: ...


class NullObserver:
    def cycle(self, seconds: float) -> None:
        return None

    def submitted(self, n: int) -> None:
        return None

    def ended(self, state: str) -> None:
        return None


@dataclass(slots=True)
class Gate:
    """An array's ``%limit``: how many of its tasks the engine may hold at once."""

    limit: int
    inflight: int = 0
    waiting: deque[int] = field(default_factory=deque)


@dataclass(frozen=True, slots=True)
class Submitted:
    job_ids: list[int]
    array_job_id: int | None
    replayed: bool
