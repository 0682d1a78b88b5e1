"""The user's estimate, the clairvoyant actual runtime, and Tsafrir's last-two average."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hal.engine.api import Estimate
from hal.model.job import JobSpec

DEFAULT_LIMIT = 3600.0  # used only when a job has neither a limit nor history
UNLIMITED_PLAN = 365 * 86400.0  # a plan on time limits holds a job without one for a year, as Slurm's does


class UserEstimate:
    """The requested time limit, as Slurm's backfill plans with it."""

    name = "user"

    def predict(self, job: JobSpec) -> Estimate:
        limit = job.time_limit if job.time_limit is not None else DEFAULT_LIMIT
        return Estimate(limit, limit)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


class Clairvoyant:
    """The real runtime; only a simulator knows it, for upper-bound studies."""

    name = "actual"

    def predict(self, job: JobSpec) -> Estimate:
        if job.runtime is None:
            raise ValueError(f"job {job.job_id}: the clairvoyant estimate needs the real runtime (simulator only)")
        return Estimate(job.runtime, job.runtime)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


@dataclass(slots=True)
class LastTwo:
    """Tsafrir, Etsion & Feitelson 2007: the mean of the user's last two finished runtimes, capped at the limit."""

    name: str = "last2"
    history: dict[str, deque[float]] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)  # when each user's first run was learned
    # The user's runs as a job found them at its submission: predicted again (a restarted controller), it is
    # predicted from them, never from runs that ended after it was submitted (QA: twins held across a restart
    # were planned apart). Dropped at its end (``observe``, ``forget``).
    at_submit: dict[int, tuple[float, ...]] = field(default_factory=dict)

    def predict(self, job: JobSpec) -> Estimate:
        limit = job.requested
        past = self.at_submit.get(job.job_id)
        if past is None:
            past = self.at_submit[job.job_id] = tuple(self.history.get(job.user, ()))
        if not past:
            value = limit if limit is not None else DEFAULT_LIMIT
            return Estimate(value, value)
        value = sum(past) / len(past)
        if limit is not None:
            value = min(value, limit)
        upper = limit if limit is not None else max(past)
        return Estimate(max(value, 1.0), max(upper, value))

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        self.at_submit.pop(job.job_id, None)
        past = self.history.setdefault(job.user, deque(maxlen=2))
        past.append(runtime)
        self.first.setdefault(job.user, end_time)

    def forget(self, job_id: int) -> None:
        """A job that ended without a run to learn (cancelled, requeued): its next submission is predicted anew."""
        self.at_submit.pop(job_id, None)

    def on_request(self, job: JobSpec) -> bool:
        """Whether ``job``'s prediction fell back on its request: no run of its user was learned before it was
        submitted. Its error is the request's, not this predictor's (start forecasts leave it out)."""
        learned = self.first.get(job.user)
        return learned is None or learned >= job.submit_time
