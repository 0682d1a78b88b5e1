"""What a runtime model may know about a job at submission: its request and its user's finished history.

Everything here is fed by two calls in time order: ``submitted(job)`` when the job is predicted and
``finished(job, runtime, end)`` when it completes. A feature row is built before the job is recorded as
submitted, from completions already delivered, so a prediction can never see a later completion.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from hal.model.job import JobSpec

FEATURES: tuple[str, ...] = (
    "user",
    "group",
    "executable",
    "queue",
    "partition",
    "log_procs",
    "log_request",
    "submit_hour",
    "submit_weekday",
    "user_last",
    "user_last2",
    "user_mean5",
    "user_max5",
    "user_ratio_last",
    "user_ratio_mean5",
    "same_request_last",
    "same_request_count",
    "user_prev",
    "user_min5",
    "same_limit_last",
    "same_procs_last",
    "user_completed",
    "user_outstanding",
    "user_outstanding_procs",
    "since_user_submit",
    "since_user_end",
    "machine_recent",
    "last2_estimate",
)
# user, group and partition are codes in order of first appearance: the trees split on them as numbers, since
# LightGBM's categorical splits over thousands of users overfitted in trials.
# Candidate predictions the selector chooses between, in log seconds;
# "request" is the user's limit itself; a missing candidate takes the user's last runtime (else the request).
CANDIDATES: tuple[str, ...] = (
    "user_last",
    "same_request_last",
    "last2_estimate",
    "user_max5",
    "same_limit_last",
    "request",
)
NO_LIMIT = 3600.0  # the request candidate of a job without one, before anything has finished
INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURES)}
MISSING = -1.0
_LAST = INDEX["user_last"]
_MAX, _MACHINE, REQUEST = INDEX["user_max5"], INDEX["machine_recent"], INDEX["log_request"]
_CANDIDATE_INDEX = tuple(INDEX.get(name, -1) for name in CANDIDATES)  # -1: the request itself
RECENT = 5  # per-user runtimes kept
MACHINE_RECENT = 32  # machine-wide completions averaged


def log_time(seconds: float) -> float:
    """Runtimes are modelled in log space: errors are relative, as the accuracy metric is."""
    return math.log(seconds) if seconds > 1.0 else 0.0


@dataclass(slots=True)
class UserState:
    """A user's finished runtimes (with their requests) and unfinished submissions."""

    runs: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=RECENT))
    completed: int = 0
    outstanding: int = 0
    outstanding_procs: int = 0
    last_submit: float = -1.0
    last_end: float = -1.0
    derived: tuple[list[float], float, float] | None = None  # features of ``runs``, until the next completion


@dataclass(slots=True)
class History:
    """Online state behind the features; codes for categories are given in order of first appearance."""

    users: dict[str, UserState] = field(default_factory=dict)
    codes: dict[tuple[int, str], int] = field(default_factory=dict)
    same: dict[tuple[str, float, int], tuple[float, int]] = field(default_factory=dict)
    same_limit: dict[tuple[str, float], float] = field(default_factory=dict)
    same_procs: dict[tuple[str, int], float] = field(default_factory=dict)
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=MACHINE_RECENT))
    recent_sum: float = 0.0
    open: dict[int, tuple[str, int]] = field(default_factory=dict)  # job id -> (user, procs): submitted, not ended

    def code(self, kind: int, value: str) -> float:
        key = (kind, value)
        got = self.codes.get(key)
        if got is None:
            got = self.codes[key] = len(self.codes)
        return float(got)

    def row(self, job: JobSpec) -> list[float]:
        """The feature row of ``job`` from completions seen so far (call before ``submitted``)."""
        user = self.users.get(job.user)
        req = job.requested
        t = job.submit_time
        row = [
            self.code(0, job.user),
            self.code(1, job.group),
            float(max(job.executable, -1) + 1),
            float(max(job.queue, -1) + 1),
            self.code(4, job.partition),
            math.log2(max(job.procs, 1)),
            log_time(req) if req is not None else MISSING,
            (t % 86400.0) / 3600.0,
            float(int(t // 86400.0) % 7),
        ]
        part, prev, low = self._derived(user)
        row.extend(part)
        same = self.same.get((job.user, req or -1.0, job.procs))
        row.append(log_time(same[0]) if same is not None else MISSING)
        row.append(float(same[1]) if same is not None else 0.0)
        row.append(prev)
        row.append(low)
        got = self.same_limit.get((job.user, req or -1.0))
        row.append(log_time(got) if got is not None else MISSING)
        got = self.same_procs.get((job.user, job.procs))
        row.append(log_time(got) if got is not None else MISSING)
        if user is None:
            row.extend((0.0, 0.0, 0.0, MISSING, MISSING))
        else:
            row.append(math.log1p(user.completed))
            row.append(float(user.outstanding))
            row.append(math.log1p(user.outstanding_procs))
            row.append(math.log1p(max(t - user.last_submit, 0.0)) if user.last_submit >= 0 else MISSING)
            row.append(math.log1p(max(t - user.last_end, 0.0)) if user.last_end >= 0 else MISSING)
        row.append(self.recent_sum / len(self.recent) if self.recent else MISSING)
        row.append(self._last2(user, req))
        return row

    def _derived(self, user: UserState | None) -> tuple[list[float], float, float]:
        """The user's history features, computed once per completion rather than once per submission."""
        if user is None:
            return [MISSING] * 6, MISSING, MISSING
        if user.derived is None:
            runs = user.runs
            prev = log_time(runs[-2][0]) if len(runs) >= 2 else MISSING
            low = log_time(min(r for r, _ in runs)) if runs else MISSING
            user.derived = (self._user_part(user), prev, low)
        return user.derived

    @staticmethod
    def _user_part(user: UserState | None) -> list[float]:
        if user is None or not user.runs:
            return [MISSING] * 6
        runs = [r for r, _ in user.runs]
        logs = [log_time(r) for r in runs]
        ratios = [min(r / q, 2.0) if q > 0 else MISSING for r, q in user.runs]
        last2 = runs[-2:]
        return [
            logs[-1],
            log_time(sum(last2) / len(last2)),
            sum(logs) / len(logs),
            max(logs),
            ratios[-1],
            sum(ratios) / len(ratios),
        ]

    @staticmethod
    def _last2(user: UserState | None, req: float | None) -> float:
        if user is None or not user.runs:
            return log_time(req) if req is not None else MISSING
        runs = user.runs
        value = (runs[-1][0] + runs[-2][0]) / 2.0 if len(runs) >= 2 else runs[-1][0]
        return log_time(min(value, req) if req is not None else value)

    @staticmethod
    def candidates(row: list[float], limit: float | None) -> list[float]:
        """Each candidate's log runtime, capped at the request, missing ones filled from user_last. Without a
        request, the "request" candidate is the user's longest recent run (else the machine's recent mean, else
        an hour) and caps nothing: a fixed 3,600 s stand-in capped every candidate, so every such job that ran
        longer than an hour was under-predicted (QA, NASA's trace: 1,345 guesses of exactly 3,600 s)."""
        if limit is not None:
            lreq = cap = log_time(limit)
        else:
            lreq, cap = next((v for v in (row[_MACHINE], row[_MAX]) if v >= 0), log_time(NO_LIMIT)), math.inf
        last = row[_LAST]
        if last < 0:
            last = lreq
        out = []
        for i in _CANDIDATE_INDEX:
            value = lreq if i < 0 else row[i]
            if value < 0:
                value = last
            out.append(value if value < cap else cap)
        return out

    def submitted(self, job: JobSpec) -> None:
        """Counted once per job id: a live controller predicts a job again after a restart or a requeue."""
        if job.job_id in self.open:
            return
        self.open[job.job_id] = (job.user, job.procs)
        user = self.users.get(job.user)
        if user is None:
            user = self.users[job.user] = UserState()
        user.outstanding += 1
        user.outstanding_procs += job.procs
        user.last_submit = max(user.last_submit, job.submit_time)

    def withdrawn(self, job_id: int) -> None:
        """A job cancelled before it ran: no longer outstanding, and nothing to learn."""
        got = self.open.pop(job_id, None)
        if got is None:
            return
        user = self.users[got[0]]
        user.outstanding = max(user.outstanding - 1, 0)
        user.outstanding_procs = max(user.outstanding_procs - got[1], 0)

    def finished(self, job: JobSpec, runtime: float, end_time: float) -> None:
        user = self.users.get(job.user)
        if user is None:
            user = self.users[job.user] = UserState()
        req = job.requested or -1.0
        user.runs.append((runtime, req))
        user.derived = None
        user.completed += 1
        got = self.open.pop(job.job_id, None)
        if got is not None:  # else submitted before this history was loaded: not counted, nothing to take back
            user.outstanding = max(user.outstanding - 1, 0)
            user.outstanding_procs = max(user.outstanding_procs - got[1], 0)
        user.last_end = max(user.last_end, end_time)
        key = (job.user, req, job.procs)
        prev = self.same.get(key)
        self.same[key] = (runtime, 1 if prev is None else prev[1] + 1)
        self.same_limit[(job.user, req)] = runtime
        self.same_procs[(job.user, job.procs)] = runtime
        value = log_time(runtime)
        if len(self.recent) == self.recent.maxlen:
            self.recent_sum -= self.recent[0]
        self.recent.append(value)
        self.recent_sum += value


def predicted_from(job: JobSpec) -> tuple[object, ...]:
    """What of a job the learned predictors read (``History.row``, last2's user): a pending job updated in anything
    else (its nice, its dependencies) keeps the prediction frozen at its submission, as a restart keeps it."""
    return (job.user, job.group, job.executable, job.partition, job.queue, job.procs, job.requested, job.submit_time)
