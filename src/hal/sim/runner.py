"""Builds a simulation from user-level options (trace, machine, policy, estimate) and runs it."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hal.clusterfile import load_cluster as read_cluster
from hal.engine.api import RuntimePredictor
from hal.engine.capacity import Book
from hal.engine.nodes import NodeBook
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.plugins.topology import TopoIndex
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import BASE_NAMES, Resources, ResourceSpace
from hal.model.topology import Topology
from hal.sim.accounting import into_partitions
from hal.sim.fallback import late_fit, unfitted_gbm
from hal.sim.links import keep_known_deps
from hal.sim.metrics import Summary, summarize
from hal.sim.report import trace_procs
from hal.sim.simulator import Outcome, Progress, Simulation, pool_for
from hal.sim.stretch import StretchModel
from hal.sim.swf import Problem, SwfTrace, read_swf
from hal.sim.topo_metrics import TopoSummary
from hal.sim.topo_record import TopoRecorder
from hal.sim.window import Window, parse_window, pick, skips_in
from hal.sim.workload import Cleaning, Workload, to_workload

__all__ = ["keep_known_deps", "parse_window"]  # where the tools and benchmarks have imported them from

GPU_COLUMN = BASE_NAMES.index("gpus")
NO_TREE_FOR_STRETCH = (
    "--stretch lengthens jobs that span leaf domains: the cluster file needs a [topology] tree with more than one leaf"
)


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
    whole_nodes: bool = False  # with a cluster file: a job of P processors takes ceil(P / node CPUs) whole nodes
    gpus: bool = False  # with a cluster file: a trace processor is one GPU (the AI traces' convention)
    segment: bool = False  # with gpus: a job on several nodes asks --segment=<its nodes> (all in one block)
    stretch: StretchModel | None = None  # with a cluster's tree: a job runs longer the higher its nodes span


@dataclass(slots=True)
class SimRun:
    trace: SwfTrace
    workload: Workload
    outcome: Outcome
    summary: Summary
    topology: TopoSummary | None = None  # with topology placement: spans over the tree and fragmentation
    predictor: RuntimePredictor | None = None  # what planned the run, asked after it (did gbm ever fit a model?)
    index: TopoIndex | None = None  # the tree that spans were measured on (per-job leaves and levels)
    names: tuple[str, ...] = ()  # the node names of a cluster file's run (per-job node lists)

    @property
    def problems(self) -> list[Problem]:
        return self.trace.problems + self.workload.skipped


def load_cluster(path: Path) -> Cluster:
    """A cluster file read once per run of a command, so its import warnings (topology.conf) print once, not
    at every step that needs the cluster (a simulate printed each three times)."""
    p = Path(path).resolve()
    stat = p.stat() if p.exists() else None
    return _cluster_at(p, stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)


@functools.lru_cache(maxsize=8)
def _cluster_at(path: Path, mtime: int, size: int) -> Cluster:
    return read_cluster(path)


def machine(workload: Workload, opts: SimOptions) -> tuple[Book, ResourceSpace, int]:
    """A processor pool by default; a node table when a cluster file is given (placed by its topology tree
    with ``placement = "topology"``)."""
    if opts.cluster is None:
        if opts.profile.placement == "topology":
            raise ValueError("placement 'topology' needs a cluster file (--cluster) describing the tree")
        cap = opts.procs or workload.capacity
        book, space = pool_for(cap)
        return book, space, cap
    book_n, table = _node_book(load_cluster(opts.cluster), opts.profile)
    return book_n, table.space, int(table.capacity[:, GPU_COLUMN if opts.gpus else 0].sum())


def _node_book(cluster: Cluster, profile: Profile) -> tuple[NodeBook, NodeTable]:
    """A fresh node book on a cluster (a book keeps the nodes' state), placed the way the profile asks."""
    table = NodeTable.of(cluster)
    return placement_book(table, profile, cluster.topology), table


def cluster_machine(path: Path) -> Callable[[Profile], tuple[Book, ResourceSpace]]:
    """Fresh node books on one cluster file, one per simulation: what `hal tune --cluster` simulates each
    candidate on."""
    cluster = load_cluster(path)

    def build(profile: Profile) -> tuple[Book, ResourceSpace]:
        book, table = _node_book(cluster, profile)
        return book, table.space

    return build


def load(path: str | Path, opts: SimOptions) -> tuple[SwfTrace, Workload]:
    """The trace's jobs as the options ask; the options that need no trace are checked before it is read (a bad
    one was refused only after a whole trace's skips were listed)."""
    capacity, per_node, cluster = opts.procs, 0, None
    if opts.segment and not (opts.gpus and opts.profile.placement == "topology"):
        raise ValueError("--segment keeps a multi-node GPU job in one block: it needs --gpus and --placement topology")
    if opts.cluster is not None:
        cluster = load_cluster(opts.cluster)
        cap = NodeTable.of(cluster).capacity
        cpus = cap[:, 0]
        capacity, per_node = int(cpus.sum()), int(cpus.min())
        if opts.whole_nodes and opts.gpus:
            raise ValueError("--whole-nodes and --gpus: a trace's processors are CPUs or GPUs; give one of them")
        if opts.whole_nodes and int(cpus.max()) != per_node:  # how many nodes a job takes depends on which
            raise ValueError(
                "--whole-nodes sizes jobs in nodes, so it needs nodes of one size; "
                f"these have {per_node} to {int(cpus.max())} CPUs"
            )
        if opts.gpus:
            capacity, per_node = gpu_capacity(cap)
    elif opts.whole_nodes or opts.gpus:
        raise ValueError(f"{'--gpus' if opts.gpus else 'whole-node'} jobs need a cluster file (--cluster)")
    trace = read_swf(path)
    window = pick(trace, *opts.window) if opts.window is not None else None  # counted before any job is dropped
    workload = to_workload(trace, capacity, opts.cleaning)
    if cluster is not None:  # a trace exported from HAL (hal history --swf) puts jobs back in their partitions
        workload = into_partitions(workload, trace, cluster)
    if window is not None:
        in_window(workload, window)
    if opts.whole_nodes:
        workload.jobs = [whole_node_job(j, per_node) for j in workload.jobs]
    if opts.gpus:
        topology = cluster.topology if cluster else None
        sizes = list(Counter(p[-1] for p in topology.paths).values()) if topology else []
        block = segment_room(topology) if opts.segment else 0
        workload.jobs = [gpu_job(j, per_node, block, sizes) for j in workload.jobs]
    return trace, workload


def segment_room(topology: Topology | None) -> int:
    """The most nodes a segment may take: the base block size on blocks (Slurm's bblock_node_cnt, a short block
    being one of it with gaps), else a tree's full leaf switch (the largest). A short block or leaf only holds
    fewer segments (gpu_job's ``blocks``): sized by the smallest, 40 nodes in blocks of 3 (a last block of 1) asked
    segments of 1, no --segment at all, though the run was labelled segment (QA)."""
    if topology is None:
        return 0
    if topology.block_nodes:
        return topology.block_nodes[-1]
    return max(Counter(p[-1] for p in topology.paths).values(), default=0)


def in_window(workload: Workload, window: Window) -> None:
    """The window's jobs, its skips and the whole trace's notes said to be so; the note when the window runs past
    the trace's end (hal tune and predict-eval say the same)."""
    workload.jobs = keep_known_deps(window.of(workload.jobs))
    workload.skipped = skips_in(window, workload.skipped)
    workload.notes = [f"(whole trace) {note}" for note in workload.notes]
    past_end = window.note()
    if past_end:
        workload.notes.append(past_end)


def gpu_capacity(cap: npt.NDArray[np.int64]) -> tuple[int, int]:
    """All GPUs and the GPUs of a node, for a trace whose processors are GPUs: every node has the same
    number (a job's node count depends on it) and a CPU for each (each GPU task takes one)."""
    gpus, cpus = cap[:, GPU_COLUMN], cap[:, 0]
    per_node = int(gpus.min())
    if int(gpus.max()) == 0:
        raise ValueError("--gpus: the cluster file's nodes have no GPUs (give each [[nodes]] group gpus = N)")
    if per_node == 0 or int(gpus.max()) != per_node:
        raise ValueError(
            "--gpus sizes jobs in GPUs per node, so every node needs the same number of GPUs; "
            f"these have {per_node} to {int(gpus.max())}"
        )
    if int(cpus.min()) < per_node:
        raise ValueError(f"--gpus runs one task with one CPU per GPU: nodes need {per_node} CPUs, some have fewer")
    return int(gpus.sum()), per_node


def gpu_job(job: JobSpec, per_node: int, block: int = 0, blocks: Sequence[int] = ()) -> JobSpec:
    """A trace job of P processors as P GPUs (one task of one CPU and one GPU each): on one node when it
    fits one, else on ceil(P / per_node) nodes, the shape a multi-node training job asks for; with
    ``block`` (nodes per block), those nodes in segments as large as a block allows (Slurm's ``--segment``, which
    must divide the node count and fit in a base block): the whole job in one block when it fits one, else the
    largest divisor of its node count no larger than a block (20 nodes on blocks of 18: segments of 10); a node
    count with no divisor from 2 to a block's nodes asks none (--segment=1 would let its nodes go anywhere), and
    Slurm's block rule keeps it in the smallest aggregation that holds it. ``blocks`` (each block's nodes): only
    segments the blocks can hold that many of (15 nodes on four blocks of 4 asked for five segments of 3, and was
    refused)."""
    gpus = job.tasks * max(1, job.per_task.cpus)
    nodes = -(-gpus // per_node)  # one node when it fits (as the traces' clusters ran them), never split
    sizes = range(1, min(nodes, block) + 1)
    seg = max(
        (d for d in sizes if nodes % d == 0 and (not blocks or sum(b // d for b in blocks) * d >= nodes)), default=1
    )
    per_task = Resources(cpus=1, gpus=1)
    return dataclasses.replace(job, tasks=gpus, per_task=per_task, nodes=nodes, segment=seg if seg > 1 else None)


def whole_node_job(job: JobSpec, per_node: int) -> JobSpec:
    """A trace job as exclusive whole nodes (ceil(P / per_node) of them, ``per_node`` tasks each), the way
    node-based machines ran it: the topology placement and its leaf reservation act on whole-node jobs."""
    procs = job.tasks * max(1, job.per_task.cpus)
    k = max(1, -(-procs // per_node))
    return dataclasses.replace(job, tasks=k * per_node, per_task=Resources(cpus=1), nodes=k, exclusive=True)


def topo_index(book: Book, opts: SimOptions) -> TopoIndex | None:
    """The tree spans are measured on: the selector's, else the cluster file's (first fit on a tree is
    measured too, for comparison); None without a tree."""
    index = getattr(getattr(book, "select", None), "index", None)
    if isinstance(index, TopoIndex):
        return index if index.counts[index.leaf] > 1 else None  # one leaf: nothing to measure
    if opts.cluster is None:
        return None
    topology = load_cluster(opts.cluster).topology
    return TopoIndex(topology) if topology is not None and len(set(topology.paths)) > 1 else None


def run(path: str | Path, opts: SimOptions, progress: Progress | None = None) -> SimRun:
    trace, workload = load(path, opts)
    return run_workload(trace, workload, opts, progress)


def run_workload(trace: SwfTrace, workload: Workload, opts: SimOptions, progress: Progress | None = None) -> SimRun:
    book, space, size = machine(workload, opts)
    predictor = opts.predictor() if opts.predictor is not None else make_predictor(opts.estimate)
    index = topo_index(book, opts)
    unit = GPU_COLUMN if opts.gpus else None  # GPU runs: useful utilization in GPUs, as the main table counts
    recorder = TopoRecorder(workload.jobs, index, book, unit=unit) if index and isinstance(book, NodeBook) else None
    stretch = stretched(opts.stretch, index) if opts.stretch is not None else None
    sim = Simulation(  # a job refused at submission: its dependants start without waiting for it (sim/links.py)
        workload.jobs, book, space, opts.profile, predictor, opts.sample_every, on_plan=recorder, stretch=stretch
    )
    outcome = sim.run(progress)
    if opts.gpus:  # each GPU task holds one CPU: busy CPUs are busy GPUs, and utilization is of the GPUs
        outcome = dataclasses.replace(outcome, capacity=size)
    work = trace_work(trace, outcome) if opts.whole_nodes else None  # util: the trace's work, not whole nodes
    run = SimRun(trace, workload, outcome, summarize(outcome, len(trace.problems) + len(workload.skipped), work))
    run.predictor, run.index = predictor, index
    run.names = book.table.names if isinstance(book, NodeBook) else ()
    run.topology = recorder.summary(outcome, workload.cut) if recorder is not None else None
    return run


def trace_work(trace: SwfTrace, outcome: Outcome) -> npt.NDArray[np.int64]:
    """Each job's processors as the trace gives them (field 5, else 8), in the outcome's order."""
    procs = trace_procs(trace)
    return np.array([procs.get(int(j), p) for j, p in zip(outcome.job_id, outcome.procs, strict=True)], np.int64)


def stretched(model: StretchModel, index: TopoIndex | None) -> Callable[[int, tuple[int, ...]], float]:
    """A job's runtime factor from the highest level its nodes span on the cluster's tree."""
    if index is None:
        raise ValueError(NO_TREE_FOR_STRETCH)

    def factor(job_id: int, nodes: tuple[int, ...]) -> float:
        return model.factor(job_id, index.span(np.asarray(nodes, dtype=np.intp))[1]) if nodes else 1.0

    return factor


def unfitted_note(run: SimRun, estimate: str) -> str | None:
    """A gbm run whose model was never fitted planned every job with last2's predictions although it is
    labelled with gbm: said after the results, as hal predict-eval says it (a model needs its warm-up's
    completions first)."""
    pred = unfitted_gbm(run.predictor)
    if pred is None:
        return None
    late = late_fit(pred)
    if late is not None:
        return f"{pred.name}'s {late}: every prediction was last2's, although the run is labelled est={estimate}"
    return (
        f"only {pred.completions:,} jobs ended, fewer than the {pred.cfg.warmup:,} a first model needs: every "
        f"prediction was last2's, although the run is labelled est={estimate}"
    )
