"""When will each pending job start? Forward-simulate clones of the scheduler, with no further arrivals.

Two kinds of forward run. A *planned* run replays one duration per job as both plan and truth: the point
predictions, the upper ones, or the requested times (what Slurm's ``squeue --start`` shows). An *ensemble*
member keeps the scheduler's own plan (its predictions, extended by the correction rule when a job outlives
them, exactly as the shell does) while the jobs really run for the prediction times a ratio drawn from the
predictor's recent errors (actual / predicted); a running job's draw is conditioned on the time it has
already run. p50 and p90 are the quantiles of the members' starts, the p90 then widened by how earlier
forecasts fared (the jobs that arrive later and backfill ahead are in no forward run). The scheduler itself
is never modified.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from hal.engine.api import Estimate
from hal.engine.cycle import Active, Scheduler
from hal.engine.plugins.topology import TopologyArgs
from hal.engine.predict.correct import extend
from hal.engine.queue import PendingQueue, Waiting
from hal.model.job import JobSpec

BASES = ("point", "upper", "request")


@dataclass(frozen=True, slots=True)
class StartEstimate:
    """Predicted start of a pending job (seconds, absolute): half of the forecasts start by p50, 90% by p90."""

    job_id: int
    p50: float
    p90: float

    def finite(self) -> tuple[float | None, float | None]:
        """(p50, p90), None where no forward run started the job (infinite)."""
        return (self.p50 if math.isfinite(self.p50) else None, self.p90 if math.isfinite(self.p90) else None)


class _Frozen:
    """The clone's predictor: a forward run never teaches the real one (and submits nothing to ask it)."""

    name = "frozen"

    def predict(self, job: JobSpec) -> Estimate:
        limit = job.time_limit or 1.0
        return Estimate(limit, limit)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


_FROZEN = _Frozen()


def _duration(item: Waiting, basis: str) -> float:
    limit = item.spec.time_limit
    if basis == "request" and limit is not None and limit > 0:
        return limit
    return item.upper if basis == "upper" else item.estimate


def _past(end: float, act: Active, now: float, rule: str) -> float:
    """``end``, or where the correction rule extends it if the job has already run that long."""
    if end <= now:  # start + extend() can round back onto ``now``: strictly after it, whatever the times
        end = max(act.start + extend(now - act.start, act.item.spec.requested, rule), math.nextafter(now, math.inf))
    return end


def _planned_end(act: Active, now: float, basis: str, rule: str) -> float:
    end = act.start + _duration(act.item, basis)
    if basis == "point":
        end = max(end, act.predicted_end)
    return _past(end, act, now, rule)


def _replan(twin: Scheduler, pending: dict[int, float], running: dict[int, float]) -> None:
    """Make the clone plan on the given durations (pending) and ends (running) instead of its predictions."""
    queue = PendingQueue(twin.queue.order)
    for w in twin.queue.items():
        d = pending[w.spec.job_id]
        queue.add(replace(w, estimate=d, upper=d))
    twin.queue = queue
    twin.held = {j: replace(w, estimate=pending[j], upper=pending[j]) for j, w in twin.held.items()}
    twin.ends = []
    for jid, end in running.items():
        act = twin.running[jid]
        if act.released:  # the book counts it free; the plan holds it until its planned end
            twin.book.take(act.alloc)
            act.released = False
        act.predicted_end = end
        twin.ends.append((end, act.seq, jid))
    twin.ends.sort()
    twin.epoch += 1


def _run(
    twin: Scheduler, now: float, ends: dict[int, float], runs: dict[int, float], wanted: set[int], horizon: float
) -> dict[int, float]:
    """Drive the clone like the shell does: true ends finish jobs, overrun plans are extended, cycles start jobs."""
    rule = twin.profile.correction
    truth = [(end, jid) for jid, end in ends.items()]
    heapq.heapify(truth)
    wakes = _wakes(twin, now)
    starts: dict[int, float] = {}
    t = now
    while True:
        while truth and truth[0][0] <= t:
            twin.finish(heapq.heappop(truth)[1], t)
        while twin.ends and twin.ends[0][0] <= t:  # outlived its plan: extended, never assumed to end now
            jid = twin.ends[0][2]
            act = twin.running[jid]
            twin.extend(jid, _past(act.predicted_end, act, t, rule))
        for p in twin.cycle(t).starts:
            if p.job_id in wanted:
                starts[p.job_id] = t
            heapq.heappush(truth, (t + runs[p.job_id], p.job_id))
        while wakes and wakes[0] <= t:
            heapq.heappop(wakes)
        if len(starts) == len(wanted) or not (truth or wakes):
            return starts
        t = min(
            truth[0][0] if truth else math.inf,
            twin.ends[0][0] if twin.ends else math.inf,
            wakes[0] if wakes else math.inf,
        )
        if t > horizon:
            return starts


def _relaxations(s: Scheduler, now: float) -> list[float]:
    """When waiting jobs' --switches constraints lapse (submit + maxwait): the live controller cycles then,
    so a forward run must too, or it would wait for a whole leaf the job no longer needs."""
    args = getattr(getattr(s.book, "select", None), "args", None)
    if not isinstance(args, TopologyArgs):
        return []
    out = []
    for w in s.queue.items():
        if w.spec.switches is not None:
            wait = args.switch_wait(w.spec.switches_wait)
            if w.req.submit + wait > now:  # from when it could first start (a --begin, a release, its dependencies)
                out.append(w.req.submit + wait)
    heapq.heapify(out)
    return out


def _wakes(s: Scheduler, now: float) -> list[float]:
    """Times a forward run must cycle at although nothing ends: --switches lapses and held jobs' --begin."""
    out = _relaxations(s, now)
    out += [w.spec.begin_time for w in s.held.values() if w.spec.begin_time is not None and w.spec.begin_time > now]
    heapq.heapify(out)
    return out


def _pending(s: Scheduler, wanted: Collection[int] | None) -> tuple[list[Waiting], set[int]]:
    """Every waiting job, and those to forecast: queued ones and held ones (a --begin time, or dependencies,
    which a forward run takes as met when the jobs they name end: ``afterok`` assumes success)."""
    items = s.queue.items() + list(s.held.values())
    pending = {w.spec.job_id for w in items}
    return items, pending if wanted is None else {j for j in wanted if j in pending}


def forward_starts(
    s: Scheduler, now: float, basis: str = "point", horizon: float = math.inf, wanted: Collection[int] | None = None
) -> dict[int, float]:
    """Predicted start of the pending jobs in ``wanted`` (default all), planning on one ``basis``."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; choose one of {list(BASES)}")
    items, want = _pending(s, wanted)
    if not want:
        return {}
    rule = s.profile.correction
    runs = {w.spec.job_id: _duration(w, basis) for w in items}
    ends = {jid: _planned_end(act, now, basis, rule) for jid, act in s.running.items()}
    twin = s.clone(_FROZEN, history=False)
    _replan(twin, runs, ends)
    return _run(twin, now, ends, runs, want, horizon)


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

    def __post_init__(self) -> None:
        self.ratios = deque(self.ratios, maxlen=self.window)
        self.scores = deque(self.scores, maxlen=self.window // 4)
        self.rng = np.random.default_rng(self.seed)

    def fork(self) -> Forecaster:
        """A copy that knows the same errors, to forecast outside the lock that guards this one."""
        twin = Forecaster(self.members, self.window, self.min_ratios, self.min_bin, self.seed, self.by_user)
        twin.ratios.extend(self.ratios)
        twin.scores.extend(self.scores)
        twin.users = {u: v.copy() for u, v in self.users.items()}
        twin.told = self.told  # shared: first forecasts are only ever added (setdefault)
        return twin

    def state(self) -> dict[str, Any]:
        """What it learned (errors, calibration scores, first forecasts), as JSON-ready data."""
        return {
            "ratios": [[k, r] for k, r in self.ratios],
            "users": {u: list(v) for u, v in self.users.items()},
            "scores": list(self.scores),
            "told": [[j, w, p] for j, (w, p) in self.told.items()],
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
        if self.by_user:
            self.users.setdefault(user, deque(maxlen=2 * self.by_user)).append(r)

    def started(self, job_id: int, now: float) -> None:
        """A job started at ``now``: how its first forecast's p90 fared calibrates later ones."""
        first = self.told.pop(job_id, None)
        if first is not None and math.isfinite(first[1]) and first[1] > first[0]:
            self.scores.append((now - first[0]) / (first[1] - first[0]))

    def starts(
        self, s: Scheduler, now: float, wanted: Collection[int] | None = None, horizon: float = math.inf
    ) -> dict[int, StartEstimate]:
        """Calibrated p50/p90 starts of the pending jobs in ``wanted`` (default all)."""
        return self.calibrated(now, self.ensemble(s, now, wanted, horizon))

    def calibrated(self, now: float, raw: dict[int, StartEstimate]) -> dict[int, StartEstimate]:
        """``raw`` with each wait to p90 scaled by the 90th percentile of past scores (never narrowed); records
        first forecasts."""
        if len(self.told) > 8 * self.window:  # jobs cancelled before they started are never reported
            for jid in list(self.told)[: self.window]:
                del self.told[jid]
        for jid, est in raw.items():
            self.told.setdefault(jid, (now, est.p90))
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
        items, want = _pending(s, wanted)
        if not want:
            return {}
        if len(self.ratios) < self.min_ratios:
            p50 = forward_starts(s, now, "point", horizon, want)
            p90 = forward_starts(s, now, "upper", horizon, want)
            return {
                j: StartEstimate(j, p50.get(j, math.inf), max(p50.get(j, math.inf), p90.get(j, math.inf)))
                for j in sorted(want)
            }
        errors = self._errors()
        runs = [self._member(s, now, items, errors, want, horizon) for _ in range(self.members)]
        out = {}
        for j in sorted(want):
            got = np.sort([r.get(j, math.inf) for r in runs])
            out[j] = StartEstimate(j, float(got[(len(got) - 1) // 2]), float(got[math.ceil(0.9 * len(got)) - 1]))
        return out

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
        self, s: Scheduler, now: float, items: list[Waiting], errors: Errors, want: set[int], horizon: float
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
            ends[jid] = _past(act.start + total, act, now, rule)
        return what_if(s, now, ends, runs, want, horizon)


def what_if(
    s: Scheduler,
    now: float,
    ends: dict[int, float],
    runs: dict[int, float],
    wanted: Collection[int],
    horizon: float = math.inf,
) -> dict[int, float]:
    """Starts of ``wanted`` if the running jobs end at ``ends`` and pending jobs run for ``runs``, nobody else
    arriving: the clone plans on the scheduler's own predictions, extended when a job outlives them."""
    return _run(s.clone(_FROZEN, history=False), now, ends, runs, set(wanted), horizon)


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
