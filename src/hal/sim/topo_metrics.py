"""Topology and data metrics of a simulated schedule: span per job, fewest-leaf share, fragmentation."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.plugins.topology import TopoIndex


def fewest_leaves(index: TopoIndex, nodes: int, eligible: npt.NDArray[np.bool_] | None = None) -> int:
    """The fewest leaf domains that can hold ``nodes`` whole nodes on an empty machine (of the ``eligible``
    nodes only: a job's partition may hold part of a leaf)."""
    if eligible is None:
        sizes = index.size[index.leaf]
    else:
        sizes = np.bincount(index.ids[index.leaf][eligible], minlength=index.counts[index.leaf])
    sizes = np.sort(sizes)[::-1]
    return int(np.searchsorted(np.cumsum(sizes), nodes)) + 1


def fewest_leaves_for(index: TopoIndex, units: npt.NDArray[np.int64], need: int) -> int:
    """The fewest leaf domains whose nodes hold ``need`` tasks on an empty machine, ``units`` being how many of
    the job's tasks each node holds (0 where it may not run): a job of tasks, not of whole nodes."""
    sizes = np.sort(np.bincount(index.ids[index.leaf], weights=units, minlength=index.counts[index.leaf]))[::-1]
    return int(np.searchsorted(np.cumsum(sizes), need)) + 1


def fragmentation(
    index: TopoIndex, level: int, free_units: npt.NDArray[np.int64], cap_units: npt.NDArray[np.int64]
) -> float:
    """Share of free units stranded in partly used domains of ``level`` (0 = every free unit sits in a fully
    free domain, 1 = none does). At the node level with GPUs as units this is GPU fragmentation."""
    total = int(free_units.sum())
    if total == 0:
        return 0.0
    free_d = np.bincount(index.ids[level], weights=free_units, minlength=index.counts[level])
    cap_d = np.bincount(index.ids[level], weights=cap_units, minlength=index.counts[level])
    whole = free_d[free_d == cap_d].sum()
    return float(1.0 - whole / total)


@dataclass(frozen=True, slots=True)
class TopoSummary:
    jobs: int
    multi_node: int
    fewest_leaf_share: float  # multi-node jobs placed in the fewest leaves possible
    one_domain_share: float  # multi-node jobs inside one domain of the measured level
    avg_leaves: float
    avg_level: float
    avg_wait: float
    avg_bsld: float  # (wait + stretched run) / max(trace run, 10 s)
    # trace run x the units each job held (work_units: nodes or node shares, GPUs) / (capacity x makespan);
    # unstretched, jobs killed by the stretch left out
    useful_utilization: float
    makespan: float
    avg_fragmentation: float
    killed_by_stretch: int = 0  # jobs the stretch pushed past their --time, killed there (TIMEOUT): work lost

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def summarize_topology(
    index: TopoIndex,
    nodes: npt.NDArray[np.int64],
    leaves: npt.NDArray[np.int64],
    level: npt.NDArray[np.int64],
    submit: npt.NDArray[np.float64],
    start: npt.NDArray[np.float64],
    end: npt.NDArray[np.float64],
    base_run: npt.NDArray[np.float64],
    work_units: npt.NDArray[np.float64],
    capacity: float,
    domain_level: int,
    frag_samples: list[tuple[float, float]],
    least: npt.NDArray[np.int64] | None = None,
    killed: npt.NDArray[np.bool_] | None = None,
    cut: npt.NDArray[np.bool_] | None = None,
) -> TopoSummary:
    """Per-job columns in input order; ``work_units`` is what each job occupies (nodes, GPUs, ...); ``least``:
    each job's fewest possible leaves when it is known per job (its partition), else from the whole machine;
    ``killed``: the jobs the stretch pushed past their --time, whose work is not useful; ``cut``: those killed at
    their partition's max_time (hal.sim.limits), whose work is not useful either."""
    done = ~np.isnan(start)
    multi = done & (nodes > 1)
    if least is not None:
        fewest = leaves[multi] <= least[multi]
    else:
        sizes = np.unique(nodes[multi])
        lookup = {int(k): fewest_leaves(index, int(k)) for k in sizes.tolist()}
        fewest = np.array([leaves[i] <= lookup[int(nodes[i])] for i in np.flatnonzero(multi)], dtype=bool)
    wait = (start - submit)[done]
    run = (end - start)[done]
    bsld = np.maximum(1.0, (wait + run) / np.maximum(base_run[done], 10.0))
    span = max(float(end[done].max() - submit[done].min()), 1e-9) if done.any() else 1e-9
    lost = done & (np.zeros(len(done), dtype=bool) if killed is None else killed)
    useful = done & ~lost if cut is None else done & ~lost & ~cut
    util = float((base_run[useful] * work_units[useful]).sum() / (capacity * span))
    frag = float(np.mean([f for _, f in frag_samples])) if frag_samples else 0.0
    return TopoSummary(
        jobs=int(done.sum()),
        multi_node=int(multi.sum()),
        fewest_leaf_share=float(fewest.mean()) if fewest.size else 1.0,
        one_domain_share=float((level[multi] <= domain_level).mean()) if multi.any() else 1.0,
        avg_leaves=float(leaves[multi].mean()) if multi.any() else 0.0,
        avg_level=float(level[multi].mean()) if multi.any() else 0.0,
        avg_wait=float(wait.mean()) if wait.size else 0.0,
        avg_bsld=float(bsld.mean()) if bsld.size else 0.0,
        useful_utilization=util,
        makespan=span,
        avg_fragmentation=frag,
        killed_by_stretch=int(lost.sum()),
    )
