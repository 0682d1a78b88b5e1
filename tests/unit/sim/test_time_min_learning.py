"""A job killed at a --time-min cut is not learned as its runtime (QA: a run cut at 98 s had the same user's next
600-s job predicted 98 s): the cut is the scheduler's TIMEOUT, only a lower bound of the job's run. A run that
the cut let go on to its end is learned as usual."""

from __future__ import annotations

import math
from dataclasses import replace

from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import Dependency, DependencyKind, JobSpec
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


def test_a_job_that_fits_on_its_prediction_is_cut_where_its_limit_would_keep_the_head_out() -> None:
    """QA: a --time-min job predicted to end before the head's start started with its whole --time; it outlived
    the prediction and the head waited for it (602 s). Held to its limit it would keep the head out, so it starts
    cut to the head's start, as Slurm (planning on limits) would have started it; the head starts on time."""
    jobs = [
        job(10, 0, 1, 1000, 20, "c"),
        job(11, 0, 1, 1000, 20, "c"),  # last2 learns 20 s for c
        job(1, 100, 3, 100, 100, "b"),
        job(2, 101, 4, 100, 100, "b"),  # the head: all 4 at 200
        job(3, 102, 1, 1000, 500, "c", time_min=30),  # predicted 20 s: fits before 200 by its prediction only
    ]
    out = simulate(jobs)
    start, end = by_id(out, "start"), by_id(out, "end")
    assert start[3] == 102.0 and end[3] == 200.0  # killed at the head's start
    assert start[2] == 200.0
    plain = simulate([*jobs[:4], job(3, 102, 1, 1000, 500, "c")])  # without --time-min: uncut, the head waits
    assert by_id(plain, "end")[3] == 602.0 and by_id(plain, "start")[2] == 602.0


def test_a_job_whose_limit_ends_before_the_head_starts_is_not_cut() -> None:
    jobs = [
        job(10, 0, 1, 1000, 20, "c"),
        job(11, 0, 1, 1000, 20, "c"),
        job(1, 100, 3, 100, 100, "b"),
        job(2, 101, 4, 100, 100, "b"),
        job(3, 102, 1, 90, 80, "c", time_min=30),  # its whole limit ends at 192, before the head's start
    ]
    out = simulate(jobs)
    assert by_id(out, "end")[3] == 182.0 and by_id(out, "start")[2] == 200.0


def test_a_run_killed_at_its_cut_is_a_timeout_for_its_dependents() -> None:
    """Killed at its cut, the job ended TIMEOUT: an afterok dependent never runs, an afternotok one does."""
    jobs = [
        job(1, 0, 3, 100, 100, "b"),
        job(2, 1, 4, 100, 100, "b"),
        job(3, 2, 1, 1000, 600, "c", time_min=30),  # cut to the hole and killed there
        replace(job(4, 3, 1, 10, 10, "c"), dependencies=(Dependency(DependencyKind.AFTEROK, 3),)),
        replace(job(5, 3, 1, 10, 10, "c"), dependencies=(Dependency(DependencyKind.AFTERNOTOK, 3),)),
    ]
    out = simulate(jobs)
    start = by_id(out, "start")
    assert by_id(out, "end")[3] == 100.0 and math.isnan(start[4]) and start[5] >= 100.0


def test_a_cut_job_that_outlives_its_prediction_is_planned_on_until_its_cut() -> None:
    """Found by the schedule invariants: a job cut on its --time but predicted shorter was never corrected when
    it outlived the prediction, so the planner counted its processor free and started another job on it."""
    jobs = [
        job(10, 0, 1, 1000, 20, "c"),
        job(11, 0, 1, 1000, 20, "c"),
        job(1, 100, 3, 100, 100, "b"),
        job(2, 101, 4, 100, 100, "b"),  # the head: all 4 at 200
        job(3, 102, 1, 1000, 500, "c", time_min=30),  # predicted 20 s, cut to 98 s, killed at 200
        job(5, 130, 1, 30, 30, "d"),  # job 3's processor looked free from 122 on
    ]
    out = simulate(jobs)
    start, end = by_id(out, "start"), by_id(out, "end")
    assert end[3] == 200.0 and start[2] == 200.0
    assert start[5] >= 300.0  # after the head, which holds all 4 from 200
