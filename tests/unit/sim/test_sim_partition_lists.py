"""The simulator places a job of several partitions (-p small,rest) with the server's node book: in one partition,
on its nodes only (QA: the union of their nodes put a `small` job on a node only `all` has)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.runner import SimOptions, machine
from hal.sim.simulator import Simulation
from hal.sim.workload import Workload
from tests.integration.test_partition_one_only import CLUSTER, TOPOLOGY

DISJOINT = CLUSTER.replace('partitions = ["small", "all"]', 'partitions = ["small"]').replace('"all"', '"rest"')
MEMBERS = {"small": {"a01", "a02", "b01", "b02"}, "rest": {"a03", "a04", "b03", "b04"}}


@pytest.mark.parametrize("placement", ["topology", "firstfit"])
def test_simulated_partition_lists_stay_in_one_partition(tmp_path: Path, placement: str) -> None:
    (tmp_path / "topology.conf").write_text(TOPOLOGY)
    (tmp_path / "c.toml").write_text(DISJOINT)
    first = JobSpec(1, 0.0, tasks=2, nodes=2, time_limit=100.0, runtime=100.0, partition="small")
    rest = [
        JobSpec(i, 1.0 + i, tasks=n, nodes=n, time_limit=100.0, runtime=50.0, partition="small,rest")
        for i, n in enumerate([3, 2, 3, 1, 4, 2], start=2)
    ]  # the 3-node ones find 2 nodes free in small and more in rest: no more than one partition's are theirs
    jobs = [first, *rest]
    opts = SimOptions(profile=Profile(placement=placement), cluster=tmp_path / "c.toml")
    book, space, _ = machine(Workload(jobs=jobs, capacity=8), opts)
    outcome = Simulation(jobs, book, space, opts.profile, make_predictor("user")).run()
    names = book.table.names  # type: ignore[union-attr]
    for job, rows in zip(jobs, outcome.nodes, strict=True):
        used = {names[r] for r in rows}
        assert len(used) == job.nodes
        assert used <= MEMBERS["small"] or used <= MEMBERS["rest"], (job.job_id, sorted(used))
