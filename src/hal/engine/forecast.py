"""When will each pending job start? Forward-simulate clones of the scheduler, with no further arrivals.

Two kinds of forward run (hal/engine/forward.py). A *planned* run replays one duration per job as both plan
and truth: the point predictions, the upper ones, or the requested times (what Slurm's ``squeue --start``
shows). An *ensemble* member keeps the scheduler's own plan (its predictions, extended by the correction rule
when a job outlives them, exactly as the shell does) while the jobs really run for the prediction times a
ratio drawn from the predictor's recent errors (actual / predicted); a running job's draw is conditioned on
the time it has already run. p50 and p90 are the quantiles of the members' starts, the p90 then widened by
how earlier forecasts fared (the jobs that arrive later and backfill ahead are in no forward run). The
scheduler itself is never modified.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from hal.engine.cycle import Scheduler
from hal.engine.forward import BASES, Budget, Halt, forward_starts, past, pending_jobs, planned_starts, what_if
from hal.engine.queue import Waiting

__all__ = ["BASES", "Forecaster", "StartEstimate", "forward_starts", "start_estimates", "what_if"]
MIN_MEMBERS = 3  # the fewest members a forecast cut down to its work budget keeps (p50 the middle, p90 the last)


@dataclass(frozen=True, slots=True)
class StartEstimate:
    """Predicted start of a pending job (seconds, absolute): half of the forecasts start by p50, 90% by p90."""

    job_id: int
    p50: float
    p90: float

    def finite(self) -> tuple[float | None, float | None]:
        """(p50, p90), None where no forward run started the job (infinite)."""
        return (self.p50 if math.isfinite(self.p50) else None, self.p90 if math.isfinite(self.p90) else None)


def _bin(predicted: float) -> int:
    """Error classes by predicted runtime (factors of 4): short predictions miss by far larger factors."""
    return int(math.log2(max(predicted, 1.0)) // 2)


Errors = dict[int | str, npt.NDArray[np.float64]]


@dataclass(slots=True)
class Forecaster:
    """Start-time forecasts from an ensemble of forward runs; learns the predictor's errors from completions.

    Runtimes are drawn from the actual/predicted ratios of recent completions: the user's own last ones once
    there are ``by_user`` of them (users err consistently: some jobs always crash, some always hit the
    limit), else those whose prediction was of the same order (``_bin``; all of them while a class has
    fewer than ``min_bin``). Until ``min_ratios``
    completions were seen, p50 plans on point predictions and p90 on upper ones. The p90 is then calibrated
    online (split conformal): each wait to p90 is scaled by the factor that covered 90% of the waits of
    earlier forecast jobs, which the shell reports through ``started``; without it, the ensemble alone
    ignores the jobs that will arrive and backfill ahead.

    Small samples (``floor_until``, 0: off; the server sets 30, ``min_bin``, where calibration starts): while
    fewer than ``min_ratios`` runtime errors or ``floor_until`` scores are known, ``starts`` gives no p90
    earlier than the plan on requested limits (Slurm's ``squeue --start``). Neither the upper predictions nor
    the raw ensemble has shown its coverage by then (in benchmarks/RESULTS.md, 'Start-time estimates', the
    raw ensemble's p90 held for 66-74% of the jobs and one run on upper predictions for 80-89%), and a
    conformal 90% bound from n scores is the ceil(0.9 (n + 1))-th smallest, which does not exist below 9
    scores and rests on the largest one or two below 30. The plan on requests is the one bound that assumes
    nothing about the predictions (jobs are killed at their limits); only later arrivals can beat it.

    Cost (``work``, inf: unbounded; the server sets a budget): a forecast of a whole queue of N jobs is about
    N cycles of O(N) work per forward run (hal/engine/forward.py), 150 s for 5,000 jobs and 10 members.
    Planned runs share ``work`` (the one on requests beside an ensemble gets a member's share); each member
    may spend a ``MIN_MEMBERS``-th of what is left. The first member measures what one costs; members are
    dropped (down to ``MIN_MEMBERS``) so that all of them fit; if even the first one runs out of its share,
    the others stop at the same instant and the jobs not started by then (in most members) get no forecast
    (``reach``), as Slurm's backfill plans only a window ahead. Fewer members, not a shorter horizon, come
    first: a p50 and p90 from 3 draws are coarser, but they exist. Queues whose forecast fits the budget are
    forecast exactly as without one. ``halt`` stops a forecast within one cycle (``Halted``).
    """

    members: int = 20
    window: int = 4000
    min_ratios: int = 50
    min_bin: int = 30
    seed: int = 1
    by_user: int = 8  # draw from the user's last 2 x by_user ratios once there are this many (0: never)
    ratios: deque[tuple[int, float]] = field(default_factory=deque)
    users: dict[str, deque[float]] = field(default_factory=dict)
    scores: deque[float] = field(default_factory=deque)  # actual wait / raw p90 wait of started jobs
    told: dict[int, tuple[float, float]] = field(default_factory=dict)  # first forecast: (when, raw p90)
    rng: np.random.Generator = field(init=False)
    work: float = math.inf  # work units one forecast may spend (hal/engine/forward.py)
    floor_until: int = 0  # p90 no earlier than the plan on requests until this many scores (0: never)
    halt: Halt | None = None  # set: the forecast in flight stops (Halted)
    reach: float = math.inf  # the last forecast's: runs were cut to the work budget after it (inf: none)
    learned: int = 0  # errors and scores recorded so far: a saver tells from it whether there is news

    def __post_init__(self) -> None:
        self.ratios = deque(self.ratios, maxlen=self.window)
        self.scores = deque(self.scores, maxlen=self.window // 4)
        self.rng = np.random.default_rng(self.seed)

    def fork(self) -> Forecaster:
        """A copy that knows the same errors, to forecast outside the lock that guards this one."""
        twin = Forecaster(self.members, self.window, self.min_ratios, self.min_bin, self.seed, self.by_user)
        twin.work, twin.floor_until = self.work, self.floor_until
        twin.ratios.extend(self.ratios)
        twin.scores.extend(self.scores)
        twin.users = {u: v.copy() for u, v in self.users.items()}
        twin.told = self.told  # shared: first forecasts are only ever added (setdefault)
        return twin

    def state(self) -> dict[str, Any]:
        """What it learned (errors, calibration scores, first forecasts), as JSON-ready data."""
        # Whole copies first (each one C call), then the JSON shape: the controller's thread may add errors and
        # a forecast in flight first forecasts while a periodic save copies them.
        ratios, users, scores, told = list(self.ratios), dict(self.users), list(self.scores), dict(self.told)
        return {
            "ratios": [[k, r] for k, r in ratios],
            "users": {u: list(v) for u, v in users.items()},
            "scores": scores,
            "told": [[j, w, p] for j, (w, p) in told.items()],
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Take back what ``state`` gave (a restarted controller keeps its p90 spread); ValueError on bad data."""
        try:
            ratios = [(int(k), float(r)) for k, r in data["ratios"]]
            users = {str(u): [float(r) for r in v] for u, v in data["users"].items()}
            scores = [float(x) for x in data["scores"]]
            told = {int(j): (float(w), float(p)) for j, w, p in data["told"]}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a saved forecaster state ({type(exc).__name__}: {exc})") from None
        values = [r for _, r in ratios] + [r for v in users.values() for r in v]
        if not all(math.isfinite(r) and r > 0 for r in values) or not all(math.isfinite(x) for x in scores):
            raise ValueError("not a saved forecaster state (non-finite or negative values)")
        if not all(math.isfinite(w) for w, _ in told.values()):
            raise ValueError("not a saved forecaster state (a non-finite forecast time)")
        self.ratios.extend(ratios)
        for u, v in users.items():
            self.users.setdefault(u, deque(maxlen=2 * max(self.by_user, 1))).extend(v)
        self.scores.extend(scores)
        self.told.update(told)

    def observe(self, predicted: float, runtime: float, user: str = "") -> None:
        """A job ended after ``runtime`` seconds; the planner had predicted ``predicted``."""
        r = max(runtime, 1.0) / max(predicted, 1.0)
        self.ratios.append((_bin(predicted), r))
        self.learned += 1
        if self.by_user:
            self.users.setdefault(user, deque(maxlen=2 * self.by_user)).append(r)

    def started(self, job_id: int, now: float) -> None:
        """A job started at ``now``: how its first forecast's p90 fared calibrates later ones."""
        first = self.told.pop(job_id, None)
        if first is not None and math.isfinite(first[1]) and first[1] > first[0]:
            self.scores.append((now - first[0]) / (first[1] - first[0]))
            self.learned += 1

    def unsure(self) -> bool:
        """Too few errors known to trust a p90 (see ``floor_until`` in the class docstring)."""
        return self.floor_until > 0 and (len(self.ratios) < self.min_ratios or len(self.scores) < self.floor_until)

    def starts(
        self, s: Scheduler, now: float, wanted: Collection[int] | None = None, horizon: float = math.inf
    ) -> dict[int, StartEstimate]:
        """Calibrated p50/p90 starts of the pending jobs in ``wanted`` (default all); while ``unsure``, no p90
        before the plan on requested limits. When the work budget cut the forecast short (``reach``), the jobs
        without a p50 are left out (callers fall back on the planner's own reservation)."""
        raw, floor = self._raw(s, now, wanted, horizon, self.unsure())
        out = self.calibrated(now, raw)
        if floor is not None:
            out = {j: replace(e, p90=max(e.p90, floor.get(j, math.inf))) for j, e in out.items()}
        if math.isfinite(self.reach):
            out = {j: e for j, e in out.items() if math.isfinite(e.p50)}
        return out

    def calibrated(self, now: float, raw: dict[int, StartEstimate]) -> dict[int, StartEstimate]:
        """``raw`` with each wait to p90 scaled by the 90th percentile of past scores (never narrowed); records
        first forecasts (with a p90: a job past a cut forecast's horizon is recorded by a later forecast)."""
        told = self.told
        if len(told) > 8 * self.window:  # jobs cancelled before they started are never reported
            for jid in list(told)[: self.window]:
                told.pop(jid, None)  # the controller's thread may have popped it meanwhile (``started``)
        for jid, est in raw.items():
            if math.isfinite(est.p90):
                told.setdefault(jid, (now, est.p90))
        if len(self.scores) < self.min_bin:
            return raw
        # Widening only: a burst of jobs that started long before their p90 (an array draining in seconds) made
        # q 0.07 live, which put every p90 on its p50, and jobs then started after both (QA).
        q = max(float(np.quantile(np.fromiter(self.scores, np.float64), 0.9)), 1.0)
        return {j: replace(e, p90=max(e.p50, now + q * (e.p90 - now))) for j, e in raw.items()}

    def ensemble(
        self, s: Scheduler, now: float, wanted: Collection[int] | None = None, horizon: float = math.inf
    ) -> dict[int, StartEstimate]:
        """Uncalibrated quantiles of the members' starts (one point and one upper run before enough errors)."""
        return self._raw(s, now, wanted, horizon, False)[0]

    def _raw(
        self, s: Scheduler, now: float, wanted: Collection[int] | None, horizon: float, floor: bool
    ) -> tuple[dict[int, StartEstimate], dict[int, float] | None]:
        """The ensemble's quantiles and, with ``floor``, the starts planned on requests (one budget for all)."""
        self.reach = math.inf
        items, want = pending_jobs(s, wanted)
        if not want:
            return {}, None
        few = len(self.ratios) < self.min_ratios
        bases = (("point", "upper") if few else ()) + (("request",) if floor else ())
        plans: list[dict[int, float]] = []
        used = 0.0
        if bases:  # the planned runs share the work; beside an ensemble, the one on requests gets a member's
            work = self.work if few else self.work / (MIN_MEMBERS + 1)
            plans, self.reach, used = planned_starts(s, now, bases, want, horizon, work, self.halt)
        requests = plans[-1] if floor else None
        if few:
            p50, p90 = plans[0], plans[1]
            return {
                j: StartEstimate(j, p50.get(j, math.inf), max(p50.get(j, math.inf), p90.get(j, math.inf)))
                for j in sorted(want)
            }, requests
        runs = self._members(s, now, items, want, min(horizon, self.reach), self.work - used)
        out = {}
        for j in sorted(want):
            got = np.sort([r.get(j, math.inf) for r in runs])
            out[j] = StartEstimate(j, float(got[(len(got) - 1) // 2]), float(got[math.ceil(0.9 * len(got)) - 1]))
        return out, requests

    def _members(
        self, s: Scheduler, now: float, items: list[Waiting], want: set[int], horizon: float, left: float
    ) -> list[dict[int, float]]:
        """The members' starts: as many members as ``left`` work allows, by what the first one cost."""
        errors, share = self._errors(), left / MIN_MEMBERS  # what any one member may spend
        pilot = Budget(share, self.halt)
        runs = [self._member(s, now, items, errors, want, horizon, pilot)]
        members = self.members
        if pilot.cut:  # it could not reach every wanted job: the others stop where it stopped
            horizon = self.reach = min(self.reach, pilot.reached)
            members = min(members, MIN_MEMBERS)
        elif pilot.used * members > left:
            members = min(members, max(MIN_MEMBERS, int(left // max(pilot.used, 1.0))))
        for _ in range(members - 1):
            budget = Budget(share, self.halt)
            runs.append(self._member(s, now, items, errors, want, horizon, budget))
            if budget.cut:
                self.reach = min(self.reach, budget.reached)
        return runs

    def _errors(self) -> Errors:
        """Sorted ratios per class with enough of them (key -1: all) and per user with enough of them."""
        table: dict[int | str, list[float]] = {}
        for k, r in self.ratios:
            table.setdefault(k, []).append(r)
        out: Errors = {k: np.sort(np.array(v)) for k, v in table.items() if len(v) >= self.min_bin}
        out[-1] = np.sort(np.fromiter((r for _, r in self.ratios), np.float64))
        if self.by_user:
            out.update((u, np.sort(np.array(v))) for u, v in self.users.items() if len(v) >= self.by_user)
        return out

    def _member(
        self,
        s: Scheduler,
        now: float,
        items: list[Waiting],
        errors: Errors,
        want: set[int],
        horizon: float,
        budget: Budget | None = None,
    ) -> dict[int, float]:
        rng, rule = self.rng, s.profile.correction
        runs = {}
        for w in items:
            ratios = _ratios(errors, w.spec.user, w.estimate)
            runs[w.spec.job_id] = _capped(w.estimate * ratios[rng.integers(len(ratios))], w.spec.requested)
        ends = {}
        for jid, act in s.running.items():
            elapsed, point = now - act.start, max(act.item.estimate, 1.0)
            ratios = _ratios(errors, act.item.spec.user, point)
            k = int(np.searchsorted(ratios, elapsed / point, side="right"))  # ratios it may still reach
            if k == len(ratios):
                ratios = errors.get(_bin(point), errors[-1])
                k = int(np.searchsorted(ratios, elapsed / point, side="right"))
            # Of n ratios, the next one exceeds them all with chance 1/(n + 1): a job that has outlived most
            # of them may well outlive the rest, and then it ends anywhere up to its limit (log-uniform).
            i = int(rng.integers(k, len(ratios) + 1))
            limit = act.item.spec.requested
            if i < len(ratios):
                total = _capped(point * ratios[i], limit)
            else:
                total = _tail(rng, max(elapsed, point * float(ratios[-1]) if len(ratios) else 0.0, 1.0), limit)
            ends[jid] = past(act.start + total, act, now, rule)
        return what_if(s, now, ends, runs, want, horizon, budget)


def _ratios(errors: Errors, user: str, predicted: float) -> npt.NDArray[np.float64]:
    own = errors.get(user)
    return own if own is not None else errors.get(_bin(predicted), errors[-1])


def _tail(rng: np.random.Generator, low: float, limit: float | None) -> float:
    """A run time beyond every observed one: log-uniform from ``low`` to the limit (4x ``low`` without one)."""
    high = limit if limit is not None and limit > 0 else 4.0 * low
    if high <= low:
        return _capped(low, limit)
    return _capped(math.exp(rng.uniform(math.log(low), math.log(high))), limit)


def _capped(run: float, limit: float | None) -> float:
    run = max(float(math.ceil(run)), 1.0)
    return min(run, limit) if limit is not None and limit > 0 else run


def start_estimates(s: Scheduler, now: float, forecaster: Forecaster | None = None) -> dict[int, StartEstimate]:
    """p50 and p90 predicted starts of the pending jobs, what ``hal queue --start`` shows."""
    return (forecaster or Forecaster()).starts(s, now)
