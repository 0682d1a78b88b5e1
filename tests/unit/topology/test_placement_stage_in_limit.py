"""A stage-in against the time limit in the placement simulator, as the live controller counts it: the limit runs
from the launch (data/launch_clock.py restarts the job's clock when its inputs arrive, as Slurm restarts StartTime
when CONFIGURING ends), so a run the stretch cut at its --time is held that long after the stage-in; a --time-min
cut loses the stage-in instead, never below --time-min (controller/lowered_limit.py staged_cut). QA asked whether
the stage-in held the nodes past the --time: it does, in both shells alike; the --time-min floor did not."""

from __future__ import annotations

import pytest

from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.placement_sim import PlacementOutcome, PlacementSimulation
from hal.sim.stretch import StretchModel

WHOLE = {"tasks": 8, "exclusive": True}


def run(jobs: list[JobSpec], staging: dict[int, float], stretch: StretchModel | None = None) -> PlacementOutcome:
    """Two 8-cpu nodes under two leaves; ``staging``: each job's stage-in seconds."""
    topo = Topology(("switch",), (("s0",), ("s1",)))
    base = Cluster.uniform(2, Resources(cpus=8))
    sel = TopologySelector(topo)
    book = NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=sel)
    sim = PlacementSimulation(
        jobs, book, Profile(backfill="easy"), make_predictor("user"), sel.index, stretch=stretch,
        on_start=lambda job, _nodes, _now: staging.get(job.job_id, 0.0),
    )  # fmt: skip
    return sim.run()


def test_a_time_min_cut_loses_the_stage_in_but_never_below_its_minimum() -> None:
    head = [
        JobSpec(1, 0.0, nodes=1, time_limit=100, runtime=100, user="b", **WHOLE),
        JobSpec(2, 1.0, nodes=2, time_limit=100, runtime=100, user="b", **WHOLE),  # the head: both nodes at 100
    ]
    cut = JobSpec(3, 2.0, nodes=1, time_limit=1000, runtime=600, user="c", time_min=60, **WHOLE)  # cut to 98 s
    out = run([*head, cut], {3: 20.0})
    assert out.start[2] == 2.0 and out.end[2] == pytest.approx(100.0)  # 20 s staging + 78 s: the kill at the cut
    out = run([*head, cut], {3: 50.0})
    # 98 - 50 = 48 s is below its --time-min: the live controller gives it 60 s after the launch (it was killed at 100)
    assert out.end[2] == pytest.approx(2.0 + 50.0 + 60.0)


def test_a_stretched_run_cut_at_its_time_is_held_that_long_after_the_stage_in() -> None:
    model = StretchModel(heavy=(0.2,), light=(0.2,))  # a 2-node job spans both leaves: x1.2
    job = JobSpec(1, 0.0, nodes=2, time_limit=110, runtime=100, user="u", **WHOLE)
    out = run([job], {1: 30.0}, model)
    assert out.end[0] - out.start[0] == pytest.approx(30.0 + 110.0)  # the limit runs from the launch
    assert out.stretch_killed == {0}


def test_the_plan_counts_a_stage_in_as_the_live_controller_does() -> None:
    """A staged job's planned end moves by its stage-in (data/launch_clock.py moves the live one's at the launch):
    planned on the dispatch, the head's reservation fell 50 s before the node freed, and a job that fitted in the
    real gap was not backfilled."""
    staged = JobSpec(1, 0.0, nodes=1, time_limit=100, runtime=100, user="a", **WHOLE)  # holds node 0 until 150
    head = JobSpec(2, 1.0, nodes=2, time_limit=100, runtime=100, user="b", **WHOLE)
    filler = JobSpec(3, 2.0, nodes=1, time_limit=120, runtime=120, user="c", **WHOLE)  # ends at 122 < 150
    out = run([staged, head, filler], {1: 50.0})
    assert out.end[0] == pytest.approx(150.0)
    assert out.start[2] == 2.0 and out.start[1] == pytest.approx(150.0)
