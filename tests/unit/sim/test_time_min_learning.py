"""A job killed at a --time-min cut is not learned as its runtime (QA: a run cut at 98 s had the same user's next
600-s job predicted 98 s): the cut is the scheduler's TIMEOUT, only a lower bound of the job's run. A run that
the cut let go on to its end is learned as usual."""

from __future__ import annotations

from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.placement_sim import PlacementSimulation
from hal.sim.simulator import Outcome, Simulation, pool_for


def job(
    jid: int, submit: float, procs: int, limit: float, run: float, user: str, time_min: float | None = None
) -> JobSpec:
    return JobSpec(
        job_id=jid, submit_time=submit, tasks=procs, time_limit=limit, runtime=run, user=user, time_min=time_min
    )


def simulate(jobs: list[JobSpec]) -> Outcome:
    book, space = pool_for(4)
    return Simulation(jobs, book, space, Profile(backfill="easy"), make_predictor("last2")).run()


def by_id(out: Outcome, column: str) -> dict[int, float]:
    return dict(zip(out.job_id.tolist(), getattr(out, column).tolist(), strict=True))


def test_a_run_killed_at_its_cut_is_not_learned() -> None:
    # 4 procs: job 1 holds 3 until 100, the head (job 2) needs all 4; job 3 is cut to the hole and killed there.
    jobs = [
        job(1, 0, 3, 100, 100, "b"),
        job(2, 1, 4, 100, 100, "b"),
        job(3, 2, 1, 1000, 600, "c", time_min=30),
        job(4, 500, 1, 1000, 600, "c"),
    ]
    out = simulate(jobs)
    assert by_id(out, "start")[3] == 2.0 and by_id(out, "run")[3] < 600  # it was cut
    assert by_id(out, "estimate")[4] == 1000.0  # nothing learned of c's runs: the request, not the cut


def test_a_cut_job_that_ran_its_course_is_learned() -> None:
    jobs = [
        job(1, 0, 3, 100, 100, "b"),
        job(2, 1, 4, 100, 100, "b"),
        job(3, 2, 1, 1000, 50, "c", time_min=30),  # cut to the hole, ends by itself before it
        job(4, 500, 1, 1000, 600, "c"),
    ]
    out = simulate(jobs)
    assert by_id(out, "run")[3] == 50.0
    assert by_id(out, "estimate")[4] == 50.0  # last2 of one run: that run


def test_the_placement_simulator_does_not_learn_a_run_killed_at_its_cut() -> None:
    topo = Topology.tree(2, (2,), ("switch",))
    base = Cluster.uniform(2, Resources(cpus=8))
    sel = TopologySelector(topo)
    book = NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=sel)
    whole = {"tasks": 8, "exclusive": True}
    jobs = [
        JobSpec(1, 0.0, nodes=1, time_limit=100, runtime=100, user="b", **whole),
        JobSpec(2, 1.0, nodes=2, time_limit=100, runtime=100, user="b", **whole),  # the head: both nodes at 100
        JobSpec(3, 2.0, nodes=1, time_limit=1000, runtime=600, user="c", time_min=30, **whole),  # cut to the hole
        JobSpec(4, 500.0, nodes=1, time_limit=1000, runtime=600, user="c", **whole),
    ]
    predictor = make_predictor("last2")
    out = PlacementSimulation(jobs, book, Profile(backfill="easy"), predictor, sel.index).run()
    assert out.start[2] == 2.0 and out.end[2] - out.start[2] < 600  # it was cut
    assert isinstance(predictor, LastTwo) and list(predictor.history["c"]) == [600.0]  # job 4's run only
