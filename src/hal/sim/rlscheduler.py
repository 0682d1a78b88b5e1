"""RLScheduler's (Zhang et al., SC20) heuristic evaluation setup as a named simulator variant."""

from __future__ import annotations

import hashlib
import math
import struct
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from hal.sim.rl_reading import differences
from hal.sim.swf import Problem, read_swf

POLICIES: tuple[str, ...] = ("fcfs", "sjf", "f1", "wfp3", "unicep")
PUBLISHED_STARTS: tuple[int, ...] = (1981, 2756, 4299, 8850, 3316, 2714, 5228, 7762, 4022, 7085)
TAU = 10  # bounded-slowdown threshold, seconds
_EPS = 1e-15  # RLScheduler's guard in UNICEP, kept so its float results are reproduced bit for bit

# A queue key: a float for most policies, (request, submit) for SJF; sorted ascending, smallest first.
Key = float | tuple[int, int]


class RlJob(NamedTuple):
    """A loaded job: `run` is the actual duration (never killed at `req`), `procs` the processor count."""

    job_id: int
    submit: int
    run: int
    req: int
    procs: int
    user: int = -1  # SWF user id; RLScheduler's loader ignores it, an online predictor keys on it


# A time-dependent custom key, built once per window from its jobs and the processors per node; called at
# each head choice with the queued jobs' window indices, the time and the free nodes, it returns their keys.
WindowKey = Callable[[list[int], int, int], Sequence[float]]
DynamicKey = Callable[[Sequence[RlJob], float], WindowKey]


@runtime_checkable
class Learns(Protocol):
    """A window key that also hears each completion, in time order, as a live scheduler would: an online
    runtime predictor learns only from jobs that ended before the decision it informs."""

    def ended(self, j: int) -> None: ...


class Loaded(NamedTuple):
    """A trace as RLScheduler sees it: jobs in job-id order, a free-node counter and processors per node."""

    jobs: list[RlJob]
    nodes: int
    ppn: float
    problems: tuple[Problem, ...] = ()  # the lines that could not be read, as hal simulate lists them
    notes: tuple[str, ...] = ()  # where RLScheduler's reading differs from hal simulate's replay (differences)


@dataclass(frozen=True)
class RlSetup:
    """One heuristic run of the published table; `published_bug` keeps WFP3/UNICEP's `w = -1 - s`."""

    policy: str
    backfill: bool
    published_bug: bool = False
    window_size: int = 1024
    starts: tuple[int, ...] | None = None  # None: drawn as RLScheduler does, seed 1
    batch_job_slice: int = 10000  # only the first 10,000 jobs are sampled (no effect on 10,000-job traces)
    key: Callable[[RlJob], Key] | None = field(default=None, compare=False)  # policy "custom": a static key
    dynamic: DynamicKey | None = field(default=None, compare=False)  # policy "custom": a key that reads the time

    def __post_init__(self) -> None:
        if self.policy == "custom" and (self.key is None) == (self.dynamic is None):
            raise ValueError("policy 'custom' needs exactly one of a key function or a dynamic key")
        if self.policy not in POLICIES and self.policy != "custom":
            raise ValueError(f"unknown policy {self.policy!r}; choose one of {', '.join(POLICIES)}")
        if self.window_size < 1:
            raise ValueError("window_size must be positive")


@dataclass(frozen=True)
class RlResult:
    """Per-window average bounded slowdown; `mean` is the number the published table reports."""

    setup: RlSetup
    starts: tuple[int, ...]
    window_bsld: tuple[float, ...]
    seconds: float  # wall time of the simulation itself (loading excluded)

    @property
    def mean(self) -> float:
        return sum(self.window_bsld) / len(self.window_bsld)


def gym_seed_words(seed: int) -> list[int]:
    """The words gym's `seeding.np_random(seed)` feeds to RandomState, so the draws match without gym."""
    digest = hashlib.sha512(str(seed % 2**64).encode("utf8")).digest()[:8] + bytes(4)
    big = sum(word << (32 * i) for i, word in enumerate(struct.unpack("<3I", digest)))
    words: list[int] = []
    while big > 0:
        big, low = divmod(big, 2**32)
        words.append(low)
    return words or [0]


def window_starts(n_loaded: int, batch_job_slice: int, count: int = 10, seed: int = 1, window: int = 1024) -> list[int]:
    """The window starts RLScheduler's test script draws: `randint(window, hi)` from one seeded generator.

    `hi` comes from the whole trace when `batch_job_slice` is 0, else from its first `batch_job_slice` jobs
    (capped at the trace length, so a short trace is not sampled past its end).
    """
    hi = (n_loaded if batch_job_slice == 0 else min(batch_job_slice, n_loaded)) - window - 1
    if hi <= window:
        raise ValueError(f"{n_loaded} jobs are too few for windows of {window} jobs")
    rng = np.random.RandomState()
    rng.seed(gym_seed_words(seed))
    return [int(rng.randint(window, hi)) for _ in range(count)]


def load_jobs(path: str | Path) -> Loaded:
    """Load a trace with RLScheduler's rules: every line kept except zero run times, -1 runs become 10 s."""
    trace = read_swf(path)
    jobs: list[RlJob] = []
    for rec in trace.records:
        req = rec.req_time if rec.req_time != -1 else rec.run  # the raw run, which may itself be -1
        run = 10 if rec.run < 0 else rec.run
        if run == 0:
            continue
        jobs.append(RlJob(rec.job_id, rec.submit, run, req, max(rec.procs, rec.req_procs), rec.user))
    jobs.sort(key=lambda j: j.job_id)
    nodes = trace.header_int("MaxNodes")
    if nodes is None:
        raise ValueError(f"{path}: no MaxNodes header; RLScheduler's machine size comes from it")
    procs = trace.header_int("MaxProcs") or nodes
    return Loaded(jobs, nodes, procs / nodes, tuple(trace.problems), differences(trace.records))


def static_key(policy: str, published_bug: bool, job: RlJob) -> Key | None:
    """A key that does not depend on the clock, or None when the policy needs the decision time."""
    s, r, n = job.submit, job.req, job.procs
    if policy == "fcfs":
        return float(s)
    if policy == "sjf":
        return (r, s)
    if policy == "f1":
        return math.log10(r if r > 0 else 0.1) * n + 870 * math.log10(s if s > 0 else 0.1)
    if published_bug:  # RLScheduler reads the unset scheduled_time (-1) as "now": a static key
        return dynamic_key(policy, job, -1)
    return None


def dynamic_key(policy: str, job: RlJob, now: int) -> float:
    """WFP3 and UNICEP as written in RLScheduler, with waiting time w = now - submit."""
    w = now - job.submit
    if policy == "wfp3":
        return -((w / job.req) ** 3) * job.procs
    if policy == "unicep":
        return -(w + _EPS) / (math.log2(job.procs + _EPS) * job.req)
    raise ValueError(f"policy {policy!r} has no time-dependent key")


class _Window:
    """One window on an empty machine: the committed-head loop, one event at a time, exactly as published."""

    def __init__(self, jobs: Sequence[RlJob], nodes: int, ppn: float, setup: RlSetup) -> None:
        _check_window(jobs, nodes, ppn, setup)
        self.jobs = jobs
        self.sub = [j.submit for j in jobs]
        self.run = [j.run for j in jobs]
        self.req = [j.req for j in jobs]
        self.procs = [j.procs for j in jobs]
        self.need = [math.ceil(p / ppn) for p in self.procs]
        self.ppn = ppn
        self.n = len(jobs)
        self.backfill = setup.backfill
        self.policy = setup.policy
        keys: list[Key | None]
        if setup.key is not None:
            keys = [setup.key(j) for j in jobs]
        elif setup.dynamic is not None:
            keys = [None]
        else:
            keys = [static_key(setup.policy, setup.published_bug, j) for j in jobs]
        self.keys: list[Key] | None = None if keys[0] is None else [k for k in keys if k is not None]
        self.window_key = setup.dynamic(jobs, ppn) if setup.dynamic is not None else None
        self.learner = self.window_key if isinstance(self.window_key, Learns) else None
        self.min_req = min(self.req)
        self.end_act = [0] * self.n  # start + run, the completion the simulator uses
        self.end_req = [0] * self.n  # start + req, what the shadow time is planned on
        self.started_at = [-1] * self.n
        self.t = self.sub[0]
        self.queue = [0]
        self.nxt = 1
        self.running: list[int] = []
        self.free = nodes
        self.bsld_sum = 0.0

    def start(self, j: int) -> None:
        """Start j now (already out of the queue); its bounded slowdown is final at this instant."""
        t, run = self.t, self.run[j]
        self.free -= self.need[j]
        self.started_at[j] = t
        self.end_act[j] = t + run
        self.end_req[j] = t + self.req[j]
        self.running.append(j)
        self.bsld_sum += max(1.0, (t - self.sub[j] + run) / max(run, TAU))

    def event(self) -> bool:
        """Advance by exactly one event; an arrival wins a tie with a completion. True if a job ended."""
        running = self.running
        running.sort(key=self.end_act.__getitem__)
        end = self.end_act[running[0]]
        nxt = self.nxt
        if nxt < self.n and self.sub[nxt] <= end:
            self.t = max(self.t, self.sub[nxt])
            self.queue.append(nxt)
            self.nxt = nxt + 1
            return False
        self.t = max(self.t, end)
        self.finish(running.pop(0))
        return True

    def finish(self, j: int) -> None:
        self.free += self.need[j]
        if self.learner is not None:
            self.learner.ended(j)

    def choose_head(self) -> int:
        """Stable sort of the queue (ties keep their order), then the head is committed until it starts."""
        if self.keys is not None:
            self.queue.sort(key=self.keys.__getitem__)
        elif self.window_key is not None:
            keys = self.window_key(self.queue, self.t, self.free)
            order = sorted(range(len(keys)), key=keys.__getitem__)
            self.queue = [self.queue[i] for i in order]
        else:
            policy, jobs, now = self.policy, self.jobs, self.t
            self.queue.sort(key=lambda j: dynamic_key(policy, jobs[j], now))
        return self.queue[0]

    def shadow(self, head: int) -> int:
        """The head's reservation from *requested* ends, computed once per wait (and never revised)."""
        self.running.sort(key=self.end_req.__getitem__)
        fp = self.free * self.ppn
        shadow = self.t
        for r in self.running:
            fp += self.need[r] * self.ppn
            shadow = self.end_req[r]
            if fp >= self.procs[head]:
                break
        return shadow

    def backfill_pass(self, shadow: int, candidates: list[int]) -> None:
        """Start, in the given (submit) order, every job whose request ends before the shadow and fits now."""
        limit = shadow - self.t
        if self.free <= 0 or limit <= self.min_req:
            return
        req, need = self.req, self.need
        started = []
        for j in candidates:
            if req[j] < limit and need[j] <= self.free:
                self.start(j)
                started.append(j)
        if started:
            gone = set(started)
            self.queue = [j for j in self.queue if j not in gone]

    def wait_backfilling(self, head: int) -> None:
        """Wait for the committed head, running a backfill pass before each single event."""
        shadow = self.shadow(head)
        by_submit = self.sub.__getitem__  # backfill candidates go in FCFS order, whatever the policy
        ended = True
        while self.need[head] > self.free:
            # Rejected jobs stay rejected until a completion frees nodes (t only grows, free only shrinks),
            # so after an arrival only the newcomer needs a look and the stable re-sort can wait.
            if ended:
                self.queue.sort(key=by_submit)
                self.backfill_pass(shadow, self.queue)
            else:
                self.backfill_pass(shadow, self.queue[-1:])
            ended = self.event()
        self.queue.sort(key=by_submit)  # the order the published loop leaves, which later ties inherit

    def refill(self) -> None:
        """Empty queue: release completions until the next job arrives ('moveforward_for_job')."""
        while not self.queue:
            running = self.running
            if running:
                running.sort(key=self.end_act.__getitem__)
                end = self.end_act[running[0]]
            else:
                end = sys.maxsize
            if self.sub[self.nxt] <= end:
                self.t = max(self.t, self.sub[self.nxt])
                self.queue.append(self.nxt)
                self.nxt += 1
            else:
                self.t = max(self.t, end)
                self.finish(running.pop(0))

    def simulate(self) -> float:
        """Schedule every window job; the window's value is the mean bounded slowdown over all of them."""
        while True:
            head = self.choose_head()
            if self.need[head] > self.free:
                if self.backfill:
                    self.wait_backfilling(head)
                else:
                    while self.need[head] > self.free:  # no re-prioritisation while the head waits
                        self.event()
            self.queue.remove(head)
            self.start(head)
            if not self.queue:
                if self.nxt == self.n:
                    return self.bsld_sum / self.n
                self.refill()


def _check_window(jobs: Sequence[RlJob], nodes: int, ppn: float, setup: RlSetup) -> None:
    """Refuse inputs on which the published loop would hang or divide by zero, instead of hanging."""
    if not jobs:
        raise ValueError("empty window")
    for job in jobs:
        if job.procs < 1 or math.ceil(job.procs / ppn) > nodes:
            raise ValueError(f"job {job.job_id} asks for {job.procs} processors; the machine has {nodes} nodes")
        if setup.policy in ("wfp3", "unicep") and job.req == 0:
            raise ValueError(f"job {job.job_id} requests 0 s, which {setup.policy.upper()} divides by")


def simulate_window(jobs: Sequence[RlJob], nodes: int, ppn: float, setup: RlSetup) -> float:
    """Average bounded slowdown of one window started on an empty machine at its first submit time."""
    return _Window(jobs, nodes, ppn, setup).simulate()


def schedule_window(jobs: Sequence[RlJob], nodes: int, ppn: float, setup: RlSetup) -> list[int]:
    """Each window job's start time, so the loop's rules can be checked job by job."""
    window = _Window(jobs, nodes, ppn, setup)
    window.simulate()
    return window.started_at


def run_setup(source: str | Path | Loaded, setup: RlSetup) -> RlResult:
    """One table cell: the mean over the windows of the per-window average bounded slowdown."""
    loaded = source if isinstance(source, Loaded) else load_jobs(source)
    size = setup.window_size
    starts = setup.starts
    if starts is None:
        starts = tuple(window_starts(len(loaded.jobs), setup.batch_job_slice, window=size))
    began = time.perf_counter()
    values = []
    for start in starts:
        window = loaded.jobs[start : start + size]
        if len(window) < size:
            raise ValueError(f"window at {start} runs past the {len(loaded.jobs)} loaded jobs")
        values.append(simulate_window(window, loaded.nodes, loaded.ppn, setup))
    return RlResult(setup, tuple(starts), tuple(values), time.perf_counter() - began)
