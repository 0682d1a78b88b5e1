"""Builds a simulation from user-level options (trace, machine, policy, estimate) and runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hal.clusterfile import load_cluster
from hal.engine.api import RuntimePredictor
from hal.engine.capacity import Book
from hal.engine.nodes import NodeBook
from hal.engine.plugins.placement import RANKERS
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import NodeTable
from hal.model.resources import ResourceSpace
from hal.sim.metrics import Summary, summarize
from hal.sim.simulator import Outcome, Progress, Simulation, pool_for
from hal.sim.swf import Problem, SwfTrace, read_swf
from hal.sim.workload import Cleaning, Workload, to_workload


@dataclass(frozen=True, slots=True)
class SimOptions:
    profile: Profile = field(default_factory=Profile)
    estimate: str = "user"
    procs: int | None = None
    cluster: Path | None = None
    window: tuple[int, int] | None = None
    cleaning: Cleaning = field(default_factory=Cleaning)
    sample_every: float = 0.0
    predictor: Callable[[], RuntimePredictor] | None = None  # overrides ``estimate`` (e.g. gbm from a model file)


@dataclass(slots=True)
class SimRun:
    trace: SwfTrace
    workload: Workload
    outcome: Outcome
    summary: Summary

    @property
    def problems(self) -> list[Problem]:
        return self.trace.problems + self.workload.skipped


def parse_window(text: str) -> tuple[int, int]:
    try:
        start, count = (int(x) for x in text.split(":"))
    except ValueError:
        raise ValueError(f"window {text!r} is not START:COUNT (e.g. 1000:5000)") from None
    if start < 0 or count <= 0:
        raise ValueError(f"window {text!r}: START must be >= 0 and COUNT > 0")
    return start, count


def machine(workload: Workload, opts: SimOptions) -> tuple[Book, ResourceSpace, int]:
    """A processor pool by default; a node table when a cluster file is given (placed by its topology tree
    with ``placement = "topology"``)."""
    if opts.cluster is None:
        if opts.profile.placement == "topology":
            raise ValueError("placement 'topology' needs a cluster file (--cluster) describing the tree")
        cap = opts.procs or workload.capacity
        book, space = pool_for(cap)
        return book, space, cap
    cluster = load_cluster(opts.cluster)
    table = NodeTable.of(cluster)
    selector = None
    if opts.profile.placement == "topology":
        from hal.engine.plugins.topology import TopologySelector
        from hal.model.topology import Topology

        selector = TopologySelector(cluster.topology or Topology.flat(len(cluster.nodes)))
    book_n = NodeBook(table, RANKERS[opts.profile.placement], selector)
    return book_n, table.space, int(table.capacity[:, 0].sum())


def load(path: str | Path, opts: SimOptions) -> tuple[SwfTrace, Workload]:
    trace = read_swf(path)
    capacity = opts.procs
    if opts.cluster is not None:
        capacity = int(NodeTable.of(load_cluster(opts.cluster)).capacity[:, 0].sum())
    workload = to_workload(trace, capacity, opts.cleaning)
    if opts.window is not None:
        start, count = opts.window
        if start >= len(workload.jobs):
            raise ValueError(f"window starts at job {start} but the trace has {len(workload.jobs)} usable jobs")
        workload.jobs = workload.jobs[start : start + count]
    return trace, workload


def run(path: str | Path, opts: SimOptions, progress: Progress | None = None) -> SimRun:
    trace, workload = load(path, opts)
    return run_workload(trace, workload, opts, progress)


def run_workload(trace: SwfTrace, workload: Workload, opts: SimOptions, progress: Progress | None = None) -> SimRun:
    book, space, _ = machine(workload, opts)
    predictor = opts.predictor() if opts.predictor is not None else make_predictor(opts.estimate)
    sim = Simulation(workload.jobs, book, space, opts.profile, predictor, opts.sample_every)
    outcome = sim.run(progress)
    return SimRun(trace, workload, outcome, summarize(outcome, len(trace.problems) + len(workload.skipped)))
