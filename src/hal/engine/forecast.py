"""When will each pending job start? Forward-simulate clones of the scheduler, with no further arrivals.

Two kinds of forward run (hal/engine/forward.py). A *planned* run replays one duration per job as both plan
and truth: the point predictions, the upper ones, or the requested times (what Slurm's ``squeue --start``
shows). An *ensemble* member keeps the scheduler's own plan (its predictions, extended by the correction rule
when a job outlives them, exactly as the shell does) while the jobs really run for the prediction times a
ratio drawn from the predictor's recent errors (actual / predicted); a running job's draw is conditioned on
the time it has already run. p50 and p90 are the quantiles of the members' starts, the p90 then moved toward
the plan on requests, or past it, by how earlier forecasts fared (``Forecaster.calibrated``: the jobs that
arrive later and go ahead are in no forward run). The scheduler itself is never modified.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hal.engine.cycle import Scheduler
from hal.engine.error_shift import recent_errors
from hal.engine.forecast_scale import p90_at, score_of
from hal.engine.forward import (
    BASES,
    Budget,
    Halt,
    data_lapses,
    forward_starts,
    past,
    pending_jobs,
    planned_starts,
    what_if,
)
from hal.engine.predict.basic import UNLIMITED_PLAN
from hal.engine.queue import Waiting
from hal.engine.runtime_draws import Draws, Errors, bin_of, capped, draws_for, tail

__all__ = ["BASES", "Forecaster", "StartEstimate", "forward_starts", "start_estimates", "what_if"]
MIN_MEMBERS = 3  # the fewest members a forecast cut down to its work budget keeps (p50 the middle, p90 the last)
SANE = 1e9  # the largest ratio or score a saved state may hold (a job run 30 years past a 1 s prediction)
CALIBRATION = "plan"  # what saved scores measure (``state``): scores of another kind are not restored


@dataclass(frozen=True, slots=True)
class StartEstimate:
    """Predicted start of a pending job (seconds, absolute): half of the forecasts start by p50, 90% by p90.
    ``requests``: its start planned on requested limits, Slurm's ``squeue --start`` (inf: none known); ``nodes``:
    where the forward run whose start is the p50 starts it (indices; squeue's SCHEDNODES): time and nodes from
    one plan (QA: nodes from the plan on requests beside a p50 from another named a node the job never took)."""

    job_id: int
    p50: float
    p90: float
    requests: float = math.inf
    nodes: tuple[int, ...] = ()

    def finite(self) -> tuple[float | None, float | None]:
        """(p50, p90), None where no forward run started the job (infinite)."""
        return (self.p50 if math.isfinite(self.p50) else None, self.p90 if math.isfinite(self.p90) else None)


@dataclass(slots=True)
class Forecaster:
    """Start-time forecasts from an ensemble of forward runs; learns the predictor's errors from completions.

    Runtimes are drawn from the actual/predicted ratios of recent completions: the user's own last ones once there
    are ``by_user`` of them (users err consistently: some jobs always crash, some always hit the limit; the newest
    few alone once their runs changed: hal/engine/error_shift.py), else those whose prediction was of the same order
    (``bin_of``; all of them while a class has fewer than ``min_bin``). Until ``min_ratios`` completions were seen,
    p50 plans on point predictions and p90 on upper ones. The ensemble alone ignores the jobs that will arrive and
    go ahead, so its p90 is calibrated online (split conformal, ``calibrated``) on a scale from the ensemble's p90
    (0) to the plan on requested limits (1; Slurm's ``squeue --start``, planned beside every ensemble) and past it
    (1 + k: k times the ensemble's wait to its p90, at least ``MIN_WAIT``, after the plan: forecast_scale.py). A
    started job scores where its start fell on its first forecast's scale (the shell reports starts through
    ``started``); p90s go to the ceil(0.9 (n + 1))-th smallest of the last n scores. Why this scale: the plan
    assumes only that jobs end by their limits, so only later arrivals start a job after it, and a wait the plan and
    the ensemble agree on (a --begin time, a blocker killed at its limit) is never widened while fewer than 10% of
    recent jobs started after their plans (a quiet cluster). Past the plan a p90 goes only when more did, as on busy
    clusters: in the whole-trace replays of benchmarks/forecast_accuracy.py 7-18% of the waiting jobs started after
    their plans (20% under the server's multifactor order), so a p90 never past the plan would hold for as few as
    80% there. Past it, the overshoot is counted in ensemble waits (plan waits are long wherever limits are loose)
    of at least a minute, which cycles, launches and kills at limits take seconds of. The old score, actual wait /
    p90 wait, scaled whole waits and was unbounded when a p90 was seconds away (QA: a few jobs that waited minutes
    for p90s seconds away put every p90, a --begin time's too, at 25x its wait).

    Small samples (``floor_until``, 0: off; the server sets 30, ``min_bin``, where calibration starts): while
    fewer than ``min_ratios`` runtime errors or ``floor_until`` scores are known, ``starts`` puts the p90 on
    the plan on requested limits (score 1). Neither the upper predictions nor
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
    first: a p50 and p90 from 3 draws are coarser, but they exist. The plan on requests may be cut before a job
    the members reach (``planned``): its end of the p90's scale is then the cut, a lower bound (a p90 of inf
    there would drop a p90 the ensemble has). Queues whose forecast fits the budget are forecast exactly as
    without one. ``halt`` stops a forecast within one cycle (``Halted``).
    """

    members: int = 20
    window: int = 4000
    min_ratios: int = 50
    min_bin: int = 30
    seed: int = 1
    by_user: int = 8  # draw from the user's last 2 x by_user ratios once there are this many (0: never)
    ratios: deque[tuple[int, float]] = field(default_factory=deque)
    users: dict[str, deque[float]] = field(default_factory=dict)
    asked: dict[str, deque[float]] = field(default_factory=dict)  # per user: actual / requested (runtime_draws.py)
    runs: dict[str, deque[float]] = field(default_factory=dict)  # per user: run times, s (jobs without a request)
    scores: deque[float] = field(default_factory=deque)  # where started jobs' starts fell (``calibrated``)
    told: dict[int, tuple[float, float, float]] = field(default_factory=dict)  # first: (when, raw p90, on requests)
    rng: np.random.Generator = field(init=False)
    work: float = math.inf  # work units one forecast may spend (hal/engine/forward.py)
    floor_until: int = 0  # p90 on the plan on requests until this many scores (0: never)
    halt: Halt | None = None  # set: the forecast in flight stops (Halted)
    reach: float = math.inf  # the last forecast's: runs were cut to the work budget after it (inf: none)
    planned: float = math.inf  # the last forecast's plan on requests was cut after it (inf: not cut)
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
        twin.asked = {u: v.copy() for u, v in self.asked.items()}
        twin.runs = {u: v.copy() for u, v in self.runs.items()}
        twin.told = self.told  # shared: first forecasts are only ever added (setdefault)
        return twin

    def state(self) -> dict[str, Any]:
        """What it learned (errors, calibration scores, first forecasts), as JSON-ready data."""
        # Whole copies first (each one C call), then the JSON shape: the controller's thread may add errors and
        # a forecast in flight first forecasts while a periodic save copies them.
        ratios, users, scores, told = list(self.ratios), dict(self.users), list(self.scores), dict(self.told)
        asked, runs = dict(self.asked), dict(self.runs)
        return {
            "ratios": [[k, r] for k, r in ratios],
            "users": {u: list(v) for u, v in users.items()},
            "asked": {u: list(v) for u, v in asked.items()},
            "runs": {u: list(v) for u, v in runs.items()},
            "scores": scores,
            "told": [[j, w, p, r] for j, (w, p, r) in told.items()],
            "calibration": CALIBRATION,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Take back what ``state`` gave (a restarted controller keeps its p90 spread); ValueError on bad data."""
        try:
            ratios = [(int(k), float(r)) for k, r in data["ratios"]]
            users = {str(u): [float(r) for r in v] for u, v in data["users"].items()}
            asked = {str(u): [float(r) for r in v] for u, v in data.get("asked", {}).items()}  # older: none
            runs = {str(u): [float(r) for r in v] for u, v in data.get("runs", {}).items()}
            scores = [float(x) for x in data["scores"]]
            same = data.get("calibration") == CALIBRATION  # else old scores (wait ratios): another scale, dropped
            told = {int(j): (float(w), float(p), float(r)) for j, w, p, r in data["told"]} if same else {}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a saved forecaster state ({type(exc).__name__}: {exc})") from None
        scores = scores if same else []
        # Bounded, not only finite: a ratio of 1e308 passed and overflowed every forecast after it (QA)
        values = [r for _, r in ratios] + [r for v in [*users.values(), *asked.values(), *runs.values()] for r in v]
        if not all(0 < r <= SANE for r in values) or not all(abs(x) <= SANE for x in scores):
            raise ValueError(f"not a saved forecaster state (values not in (0, {SANE:g}])")
        if not all(abs(x) <= 1e3 * SANE for first in told.values() for x in first):
            raise ValueError("not a saved forecaster state (a forecast time out of range)")
        self.ratios.extend(ratios)
        for mine, theirs in ((self.users, users), (self.asked, asked), (self.runs, runs)):
            for u, v in theirs.items():
                mine.setdefault(u, deque(maxlen=2 * max(self.by_user, 1))).extend(v)
        self.scores.extend(scores)
        self.told.update(told)

    def observe(self, predicted: float, runtime: float, user: str = "", requested: float | None = None) -> None:
        """A job ended after ``runtime`` seconds; the planner had predicted ``predicted``, the user asked for
        ``requested`` (None: unknown)."""
        r = max(runtime, 1.0) / max(predicted, 1.0)
        self.ratios.append((bin_of(predicted), r))
        self.learned += 1
        if self.by_user:
            self.users.setdefault(user, deque(maxlen=2 * self.by_user)).append(r)
            self.runs.setdefault(user, deque(maxlen=2 * self.by_user)).append(max(runtime, 1.0))
            if requested is not None and requested > 0:
                asked = self.asked.setdefault(user, deque(maxlen=2 * self.by_user))
                asked.append(max(runtime, 1.0) / max(requested, 1.0))

    def started(self, job_id: int, now: float) -> None:
        """A job started at ``now``: where on its first forecast's scale it did calibrates later p90s."""
        first = self.told.pop(job_id, None)
        if first is not None:
            self.scores.append(score_of(now, *first))
            self.learned += 1

    def unsure(self) -> bool:
        """Too few errors known to trust a p90 (see ``floor_until`` in the class docstring)."""
        return self.floor_until > 0 and (len(self.ratios) < self.min_ratios or len(self.scores) < self.floor_until)

    def starts(
        self, s: Scheduler, now: float, wanted: Collection[int] | None = None, horizon: float = math.inf
    ) -> dict[int, StartEstimate]:
        """Calibrated p50/p90 starts of the pending jobs in ``wanted`` (default all); while ``unsure``, p90 on
        the plan on requested limits. When the work budget cut the forecast short (``reach``), the jobs
        without a p50 are left out (callers fall back on the planner's own reservation)."""
        out = self.calibrated(now, self._raw(s, now, wanted, horizon), self.unsure(), self.planned)
        if math.isfinite(self.reach):
            out = {j: e for j, e in out.items() if math.isfinite(e.p50)}
        return out

    def calibrated(
        self, now: float, raw: dict[int, StartEstimate], unsure: bool = False, cut: float = math.inf
    ) -> dict[int, StartEstimate]:
        """``raw`` with each p90 put where the 90% quantile of past scores says (class docstring; ``unsure``: on
        the plan on requests; before ``min_bin`` scores: left alone); records first forecasts (with both
        bounds: a job past a cut forecast's horizon is recorded by a later forecast). ``cut``: the plan on
        requests stopped there (``planned``), so a job it did not reach starts on it after ``cut``."""
        told = self.told
        if len(told) > 8 * self.window:  # jobs cancelled before they started are never reported
            for jid in list(told)[: self.window]:
                told.pop(jid, None)  # the controller's thread may have popped it meanwhile (``started``)
        for jid, est in raw.items():
            if math.isfinite(est.p90) and math.isfinite(plan := _plan(now, est)):
                told.setdefault(jid, (now, est.p90, plan))
        if unsure:
            q = 1.0
        elif len(self.scores) < self.min_bin:
            return raw
        else:  # split conformal: the ceil(0.9 (n + 1))-th smallest of n scores
            ranked = sorted(self.scores)
            q = ranked[min(math.ceil(0.9 * (len(ranked) + 1)), len(ranked)) - 1]
        # unsure: the plan itself (a year behind a job without a limit: nothing bounds it, test_forecast_unlimited)
        top = {j: e.requests if unsure else _plan(now, e) for j, e in raw.items()}
        return {j: replace(e, p90=max(e.p50, p90_at(now, e.p90, top[j], q, cut))) for j, e in raw.items()}

    def ensemble(
        self, s: Scheduler, now: float, wanted: Collection[int] | None = None, horizon: float = math.inf
    ) -> dict[int, StartEstimate]:
        """Uncalibrated quantiles of the members' starts (one point and one upper run before enough errors),
        with each job's start planned on requests."""
        return self._raw(s, now, wanted, horizon)

    def _raw(
        self, s: Scheduler, now: float, wanted: Collection[int] | None, horizon: float
    ) -> dict[int, StartEstimate]:
        """The ensemble's quantiles and the starts planned on requests (one budget for all)."""
        self.reach = self.planned = math.inf
        items, want = pending_jobs(s, wanted)
        if not want:
            return {}
        few = len(self.ratios) < self.min_ratios
        bases = (("point", "upper") if few else ()) + ("request",)
        # The planned runs share the work; beside an ensemble, the one on requests gets a member's share.
        work = self.work if few else self.work / (MIN_MEMBERS + 1)
        spots: dict[str, dict[int, tuple[int, ...]]] = {}
        plans, self.reach, used = planned_starts(s, now, bases, want, horizon, work, self.halt, spots)
        self.planned = self.reach
        requests = plans[-1]
        if few:
            point, upper, where = plans[0], plans[1], spots["point"]
            bounds = {j: (point.get(j, math.inf), upper.get(j, math.inf)) for j in sorted(want)}
            return {
                j: StartEstimate(j, lo, max(lo, hi), requests.get(j, math.inf), where.get(j, ()))
                for j, (lo, hi) in bounds.items()
            }
        runs, placed = self._members(s, now, items, want, min(horizon, self.reach), self.work - used)
        out = {}
        for j in sorted(want):
            got = [r.get(j, math.inf) for r in runs]
            order = sorted(range(len(got)), key=got.__getitem__)
            mid = order[(len(got) - 1) // 2]  # the member whose start is the p50: its nodes go with it
            p50, p90 = got[mid], got[order[math.ceil(0.9 * len(got)) - 1]]
            out[j] = StartEstimate(j, p50, p90, requests.get(j, math.inf), placed[mid].get(j, ()))
        return out

    def _members(
        self, s: Scheduler, now: float, items: list[Waiting], want: set[int], horizon: float, left: float
    ) -> tuple[list[dict[int, float]], list[dict[int, tuple[int, ...]]]]:
        """The members' starts and nodes: as many members as ``left`` work allows, by what the first one cost."""
        draws, share = self._draws(), left / MIN_MEMBERS  # what any one member may spend
        lapses = data_lapses(s, now)  # every member starts from the same state: asked once
        pilot = Budget(share, self.halt)
        placed: list[dict[int, tuple[int, ...]]] = [{}]
        runs = [self._member(s, now, items, draws, want, horizon, pilot, lapses, placed[0])]
        members = self.members
        if pilot.cut:  # it could not reach every wanted job: the others stop where it stopped
            horizon = self.reach = min(self.reach, pilot.reached)
            members = min(members, MIN_MEMBERS)
        elif pilot.used * members > left:
            members = min(members, max(MIN_MEMBERS, int(left // max(pilot.used, 1.0))))
        for _ in range(members - 1):
            budget = Budget(share, self.halt)
            placed.append({})
            runs.append(self._member(s, now, items, draws, want, horizon, budget, lapses, placed[-1]))
            if budget.cut:
                self.reach = min(self.reach, budget.reached)
        return runs, placed

    def _errors(self) -> Errors:
        """Sorted ratios per class with enough of them (key -1: all) and per user with enough of them."""
        table: dict[int | str, list[float]] = {}
        for k, r in self.ratios:
            table.setdefault(k, []).append(r)
        out: Errors = {k: np.sort(np.array(v)) for k, v in table.items() if len(v) >= self.min_bin}
        out[-1] = np.sort(np.fromiter((r for _, r in self.ratios), np.float64))
        if self.by_user:
            out.update((u, recent_errors(v)) for u, v in self.users.items() if len(v) >= self.by_user)
        return out

    def _draws(self) -> Draws:
        """What members draw from (runtime_draws.py): errors of predictions, and per user with enough of them,
        actual/requested ratios and run times."""
        if not self.by_user:
            return Draws(self._errors(), {}, {})
        asked = {u: recent_errors(v) for u, v in self.asked.items() if len(v) >= self.by_user}
        runs = {u: recent_errors(v) for u, v in self.runs.items() if len(v) >= self.by_user}
        return Draws(self._errors(), asked, runs)

    def _member(
        self,
        s: Scheduler,
        now: float,
        items: list[Waiting],
        draws: Draws,
        want: set[int],
        horizon: float,
        budget: Budget | None = None,
        lapses: list[float] | None = None,
        placed: dict[int, tuple[int, ...]] | None = None,
    ) -> dict[int, float]:
        rng, rule = self.rng, s.profile.correction
        errors = draws.errors
        runs: dict[int, float] = {}
        drawn: dict[int, float] = {}
        for w in items:
            (ratios, base), batch = draws_for(draws, w.spec.user, w.estimate, w.spec.requested), w.spec.batch
            if batch is None:
                i = int(rng.integers(len(ratios)))
            else:  # one draw for all of an array's tasks: drawn apart, a few long errors in the user's record
                # summed over a queue of 200 one-second tasks put its last forecast 30 minutes late (QA)
                if batch not in drawn:
                    drawn[batch] = float(rng.random())
                i = min(int(drawn[batch] * len(ratios)), len(ratios) - 1)
            runs[w.spec.job_id] = capped(base * ratios[i], w.spec.requested)
        ends = {}
        tails: dict[str, float] = {}  # per user: the quantile its jobs past every ratio end at (``runtime_draws.tail``)
        for jid, act in s.running.items():
            elapsed, predicted, limit = now - act.start, max(act.item.estimate, 1.0), act.item.spec.requested
            ratios, point = draws_for(draws, act.item.spec.user, predicted, limit)
            k = int(np.searchsorted(ratios, elapsed / point, side="right"))  # ratios it may still reach
            if k == len(ratios):
                ratios, point = errors.get(bin_of(predicted), errors[-1]), predicted
                k = int(np.searchsorted(ratios, elapsed / point, side="right"))
            # Of n ratios, the next one exceeds them all with chance 1/(n + 1): a job that has outlived most
            # of them may well outlive the rest, and then it ends anywhere up to its limit (log-uniform).
            i = int(rng.integers(k, len(ratios) + 1))
            if i < len(ratios):
                total = capped(point * ratios[i], limit)
            else:
                low = max(elapsed, point * float(ratios[-1]) if len(ratios) else 0.0, 1.0)
                total = tail(rng, low, limit, tails, act.item.spec.user)
            ends[jid] = past(act.start + total, act, now, rule)
        return what_if(s, now, ends, runs, want, horizon, budget, lapses, placed)


def _plan(now: float, est: StartEstimate) -> float:
    """``est``'s plan on requests, as its p90's scale reads it: inf when the plan rests on a job without a limit
    (held for a year, ``UNLIMITED_PLAN``, as squeue --start plans it): such a plan bounds nothing, and a p90
    calibrated toward it was put weeks out (QA: START_P90 46 days ahead of a job that started 4 minutes later):
    the p90 is then the ensemble's, widened only past it (q > 1). While the forecaster is unsure, the p90 is that
    plan itself (a year): nothing else bounds it yet.
    Half a year out is taken as that: no site or archive limit comes near (the archive traces' longest are days)."""
    return math.inf if est.requests - now >= UNLIMITED_PLAN / 2 else est.requests


def start_estimates(s: Scheduler, now: float, forecaster: Forecaster | None = None) -> dict[int, StartEstimate]:
    """p50 and p90 predicted starts of the pending jobs, what ``hal queue --start`` shows."""
    return (forecaster or Forecaster()).starts(s, now)
