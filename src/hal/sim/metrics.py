"""Summary metrics of a simulated schedule, with the definitions of ../shared/anchors.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hal.sim.simulator import Outcome

TAU = 10.0  # bounded-slowdown threshold, seconds


@dataclass(frozen=True, slots=True)
class Summary:
    jobs: int
    skipped: int
    avg_wait: float
    p50_wait: float
    p95_wait: float
    avg_bsld: float
    max_bsld: float
    utilization: float
    makespan: float
    backfilled: int
    wall_seconds: float
    jobs_per_second: float
    killed_by_stretch: int = 0  # with --stretch: jobs it pushed past their --time, killed there (TIMEOUT)
    # CPUs (GPUs) allocated x simulated run / (capacity x makespan): how full the machine was held, whole nodes
    # counted whole, stretched and killed runs included; ``utilization`` counts only the trace's own work
    allocated_utilization: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def bounded_slowdown(wait: np.ndarray, run: np.ndarray, tau: float = TAU) -> np.ndarray:
    bsld: np.ndarray = np.maximum(1.0, (wait + run) / np.maximum(run, tau))
    return bsld


def summarize(out: Outcome, skipped: int = 0, work: np.ndarray | None = None) -> Summary:
    """``work``: each job's processors in the trace (input order) when the run allocated it others (whole
    nodes): utilization is the trace's work in every mode (QA: whole nodes raised it while real work fell)."""
    done = out.done
    n = int(done.sum())
    if n == 0:
        return Summary(0, skipped + len(out.rejected), 0, 0, 0, 0, 0, 0, 0, 0, out.wall_seconds, 0)
    wait = out.start[done] - out.submit[done]
    run = out.run[done]
    base = run if out.base_run is None else out.base_run[done]  # stretched runs: slowed against the trace's run
    bsld = np.maximum(1.0, (wait + run) / np.maximum(base, TAU))
    first = float(out.submit[done].min())
    last = float(out.end[done].max())
    span = max(last - first, 1e-9)
    # useful work: a stretch is none, nor is a run the stretch pushed past its --time (killed, its work lost)
    killed = np.zeros(n, dtype=bool) if out.stretch_killed is None else out.stretch_killed[done]
    procs = out.procs[done] if work is None else work[done]
    util = float((base * procs)[~killed].sum() / (out.capacity * span))
    held = float((run * out.procs[done]).sum() / (out.capacity * span))
    wall = out.wall_seconds
    return Summary(
        jobs=n,
        skipped=skipped + len(out.rejected),
        avg_wait=float(wait.mean()),
        p50_wait=float(np.percentile(wait, 50)),
        p95_wait=float(np.percentile(wait, 95)),
        avg_bsld=float(bsld.mean()),
        max_bsld=float(bsld.max()),
        utilization=util,
        makespan=span,
        backfilled=int(out.backfilled[done].sum()),
        wall_seconds=wall,
        jobs_per_second=n / wall if wall > 0 else 0.0,
        killed_by_stretch=int(killed.sum()),
        allocated_utilization=held,
    )
