"""`hal simulate --placement topology`: the runner places node-table jobs with the cluster file's tree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.engine.nodes import NodeAlloc, NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.engine.request import Request
from hal.sim.generate import WorkloadShape
from hal.sim.runner import SimOptions, load, machine
from hal.sim.simulator import Simulation
from tests.clusters import switch_tree, trace_and_cluster

CLUSTER = switch_tree("tree", "n", 16, 4, "4G", 4)


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    return trace_and_cluster(tmp_path, CLUSTER, WorkloadShape(jobs=300, procs=64, load=0.8, seed=3))


def _leaves(trace: Path, cluster: Path, placement: str) -> tuple[list[int], float]:
    """Leaf switches used by each multi-node placement, and the average wait, for one placement policy."""
    opts = SimOptions(profile=Profile(placement=placement), cluster=cluster)
    _, workload = load(trace, opts)
    book, space, _ = machine(workload, opts)
    assert isinstance(book, NodeBook)
    switch = np.arange(16) // 4
    spans: list[int] = []
    allocate = book.allocate

    def recording(req: Request) -> NodeAlloc | None:
        alloc = allocate(req)
        if alloc is not None and len(alloc.nodes) > 1:
            spans.append(int(np.unique(switch[alloc.nodes]).size))
        return alloc

    book.allocate = recording  # type: ignore[method-assign]
    outcome = Simulation(workload.jobs, book, space, opts.profile, make_predictor("user")).run()
    return spans, float(np.mean(outcome.start - outcome.submit))


def test_topology_placement_builds_the_selector(files: tuple[Path, Path]) -> None:
    trace, cluster = files
    opts = SimOptions(profile=Profile(placement="topology"), cluster=cluster)
    _, workload = load(trace, opts)
    book, _, cap = machine(workload, opts)
    assert isinstance(book, NodeBook) and isinstance(book.select, TopologySelector)
    assert cap == 64
    with pytest.raises(ValueError, match="needs a cluster file"):
        machine(workload, SimOptions(profile=Profile(placement="topology")))


def test_topology_placement_uses_fewer_switches(files: tuple[Path, Path]) -> None:
    trace, cluster = files
    topo, _ = _leaves(trace, cluster, "topology")
    plain, _ = _leaves(trace, cluster, "firstfit")
    assert topo and plain
    assert np.mean(topo) < np.mean(plain)


def test_cli_simulate_topology(files: tuple[Path, Path], tmp_path: Path) -> None:
    trace, cluster = files
    summary = tmp_path / "s.json"
    args = ["simulate", str(trace), "--cluster", str(cluster), "--placement", "topology", "--summary-out", str(summary)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert summary.exists()


def test_jobs_backfill_around_a_switches_head_on_an_idle_machine() -> None:
    """A 6-node --switches=1@60 head on leaves of 4 nodes waits out its 60 s; a 1-node job that outlasts that
    wait still fits beside it (10 nodes stay free) and starts at once. The extra-nodes check placed the head
    at the current time, when its constraint still held and could not be met, so nothing backfilled."""
    from hal.engine.plugins.leaf_reserve import placement_book
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.job import JobSpec
    from hal.model.resources import Resources
    from hal.model.topology import Topology

    topo = Topology.tree(16, (4,), ("switch",))
    base = Cluster.uniform(16, Resources(cpus=8))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    profile = Profile(placement="topology")
    book = placement_book(table, profile, topo)
    jobs = [
        JobSpec(1, 0.0, tasks=6, nodes=6, exclusive=True, time_limit=300.0, runtime=30.0, switches=1,
                switches_wait=60.0),
        JobSpec(2, 1.0, tasks=1, nodes=1, exclusive=True, time_limit=120.0, runtime=30.0),
    ]  # fmt: skip
    out = Simulation(jobs, book, table.space, profile, make_predictor("user")).run()
    assert list(out.start) == [60.0, 1.0]


def test_a_begin_time_starts_the_job_then_in_the_simulator() -> None:
    """No event happens at a --begin time; the simulator wakes for it (the job waited for the next event)."""
    from hal.engine.predict.basic import LastTwo
    from hal.model.job import JobSpec
    from hal.sim.simulator import pool_for

    jobs = [JobSpec(1, 0.0, tasks=1, time_limit=60.0, runtime=10.0, begin_time=500.0)]
    out = Simulation(jobs, *pool_for(4), Profile(), LastTwo()).run()
    assert list(out.start) == [500.0]
