"""A cycle's output as data: jobs to start now, reservations in the future, and why the rest wait."""

from __future__ import annotations

from dataclasses import dataclass, field

from hal.model.job import PendingReason


@dataclass(frozen=True, slots=True)
class Placement:
    job_id: int
    nodes: tuple[int, ...]
    start: float
    predicted_end: float
    backfilled: bool = False
    time_limit: float | None = None  # the limit backfill lowered it to (--time-min); None: its own limit stands

    def run_of(self, runtime: float) -> float:
        """How long a job that would run ``runtime`` runs from this start: cut at a lowered limit (--time-min)."""
        return runtime if self.time_limit is None else min(runtime, self.time_limit)


@dataclass(frozen=True, slots=True)
class Reservation:
    """A promise: the job starts no later than ``start`` if estimates are upper bounds."""

    job_id: int
    start: float


@dataclass(slots=True)
class Plan:
    now: float
    starts: list[Placement] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    reasons: dict[int, PendingReason] = field(default_factory=dict)
