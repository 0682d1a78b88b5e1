"""A run the stretch model pushes past the job's --time is killed there, as a real scheduler kills it (TIMEOUT):
its work is lost, so it is counted and left out of useful utilization; it is learned as a TIMEOUT at the user's
own limit (controller/censored.py). QA: 110 of 3,000 KTH jobs ran past their --time only because of the stretch
(job 214: run 4,266 s, asked 4,800 s, stretched to 5,119 s)."""

from __future__ import annotations

import pytest

from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.metrics import summarize
from hal.sim.placement_sim import PlacementOutcome, PlacementSimulation
from hal.sim.simulator import Simulation, pool_for
from hal.sim.stretch import StretchModel, stretched_run

MODEL = StretchModel(heavy=(0.2,), light=(0.2,))  # every job 20% longer per level crossed: no draw per job id
WHOLE = {"tasks": 16, "exclusive": True, "nodes": 2, "user": "u"}


def test_stretched_run_is_cut_at_the_limit_never_below_the_trace_run() -> None:
    assert stretched_run(100.0, 1.2, 110.0) == (110.0, True)  # killed at its --time
    assert stretched_run(100.0, 1.2, 130.0) == (pytest.approx(120.0), False)  # within it: unchanged
    assert stretched_run(120.0, 1.2, 100.0) == (120.0, False)  # ran past --time in the trace (grace): as there
    assert stretched_run(100.0, 1.2, 100.0) == (100.0, False)  # reached it in the trace: ended there anyway
    assert stretched_run(100.0, 1.2, None) == (pytest.approx(120.0), False)  # no limit known: nothing to cut


def placement(jobs: list[JobSpec]) -> tuple[PlacementSimulation, PlacementOutcome, LastTwo]:
    """Two leaves of one 8-cpu node: a 2-node job spans level 2 and runs x1.2."""
    topo = Topology(("switch",), (("s0",), ("s1",)))
    base = Cluster.uniform(2, Resources(cpus=8))
    sel = TopologySelector(topo)
    book = NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=sel)
    predictor = make_predictor("last2")
    assert isinstance(predictor, LastTwo)
    sim = PlacementSimulation(jobs, book, Profile(backfill="easy"), predictor, sel.index, stretch=MODEL)
    return sim, sim.run(), predictor


def test_placement_sim_kills_a_stretched_run_at_its_limit_and_counts_no_useful_work() -> None:
    jobs = [
        JobSpec(1, 0.0, time_limit=110, runtime=100, **WHOLE),
        JobSpec(2, 0.0, time_limit=200, runtime=100, **WHOLE),
    ]
    sim, out, predictor = placement(jobs)
    assert out.end[0] - out.start[0] == 110.0  # killed at its --time, not run to 120
    assert out.start[1] == 110.0 and out.end[1] - out.start[1] == pytest.approx(120.0)  # within its limit
    assert out.stretch_killed == {0}
    s = sim.summary(out, domain_level=1)
    assert s.killed_by_stretch == 1
    # useful work: job 2's trace run only (100 s x 2 nodes) over 2 nodes x makespan 230 s
    assert s.useful_utilization == pytest.approx(200.0 / (2 * 230.0))
    assert list(predictor.history["u"]) == [110.0, pytest.approx(120.0)]  # the TIMEOUT at its own limit is learned


def test_placement_sim_keeps_a_trace_run_past_its_limit_and_a_run_within_it() -> None:
    jobs = [
        JobSpec(1, 0.0, time_limit=100, runtime=120, **WHOLE),
        JobSpec(2, 0.0, time_limit=200, runtime=100, **WHOLE),
    ]
    sim, out, _ = placement(jobs)
    assert out.end[0] - out.start[0] == 120.0  # the trace's own run (a site's grace), only the stretch cut
    assert out.stretch_killed == set()  # it ended as in the trace: not the stretch's kill, its work counted
    assert sim.summary(out, domain_level=1).useful_utilization == pytest.approx((240.0 + 200.0) / (2 * 240.0))
    unstretched = [JobSpec(1, 0.0, time_limit=200, runtime=100, **WHOLE)]
    sim, out, _ = placement(unstretched)
    s = sim.summary(out, domain_level=1)
    assert out.end[0] == pytest.approx(120.0) and s.killed_by_stretch == 0
    assert s.useful_utilization == pytest.approx(200.0 / (2 * 120.0))


def test_simulator_kills_a_stretched_run_at_its_limit_and_counts_no_useful_work() -> None:
    book, space = pool_for(4)
    jobs = [
        JobSpec(1, 0.0, tasks=4, time_limit=110, runtime=100, user="u"),  # x1.2 = 120 > 110: killed at 110
        JobSpec(2, 0.0, tasks=4, time_limit=200, runtime=100, user="u"),  # x1.2 = 120: unchanged
    ]
    predictor = make_predictor("last2")
    sim = Simulation(jobs, book, space, Profile(backfill="easy"), predictor, stretch=lambda _jid, _nodes: 1.2)
    out = sim.run()
    assert out.run.tolist() == [110.0, pytest.approx(120.0)] and out.start.tolist() == [0.0, 110.0]
    assert out.stretch_killed is not None and out.stretch_killed.tolist() == [True, False]
    s = summarize(out)
    assert s.killed_by_stretch == 1 and s.as_dict()["killed_by_stretch"] == 1
    assert s.utilization == pytest.approx(400.0 / (4 * 230.0))  # job 2's 100 s x 4 procs only
    assert isinstance(predictor, LastTwo) and list(predictor.history["u"]) == [110.0, pytest.approx(120.0)]


def test_factors_that_look_like_multipliers_are_told() -> None:
    """QA: heavy=1.2,light=1.03 (read as x1.2, x1.03) ran jobs 2.2 times as long without a word."""
    from hal.sim.stretch import multipliers_given

    assert multipliers_given("heavy=1.2,light=1.03") and multipliers_given("heavy=0.2/1.0")
    assert not multipliers_given("heavy=0.2/0.3,light=0.03,share=0.9") and not multipliers_given("heavy=x")
