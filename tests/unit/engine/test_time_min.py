"""sbatch --time-min: backfill starts a job with a shorter limit, never below its minimum, when that lets it start
before the reservation it would otherwise delay; the lowered limit is its kill limit (Slurm's backfill)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hal.engine.advice import limit_if_min
from hal.engine.api import Estimate
from hal.engine.cycle import Scheduler
from hal.engine.forecast import forward_starts
from hal.engine.nodes import NodeBook
from hal.engine.predict.basic import UserEstimate
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.engine.time_min import STEP, free_until, moved_cut
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.sim.simulator import Outcome, Simulation, pool_for


def job(jid: int, procs: int, limit: float, run: float, time_min: float | None = None) -> JobSpec:
    return JobSpec(job_id=jid, submit_time=0.0, tasks=procs, time_limit=limit, runtime=run, time_min=time_min)


def simulate(jobs: list[JobSpec], backfill: str, **kw: Any) -> Outcome:
    book, space = pool_for(4)
    return Simulation(jobs, book, space, Profile(backfill=backfill, **kw), make_predictor("user")).run()


def by_id(out: Outcome, column: str) -> dict[int, float]:
    return dict(zip(out.job_id.tolist(), getattr(out, column).tolist(), strict=True))


# 4 procs: job 1 holds 3 until 100; the head (job 2) needs all 4 at 100; job 3 asks 500 s on 1 proc.
@pytest.mark.parametrize("backfill", ["easy", "conservative"])
def test_a_job_starts_in_the_hole_with_its_limit_lowered_to_the_reservation(backfill: str) -> None:
    jobs = [job(1, 3, 100, 100), job(2, 4, 100, 100), job(3, 1, 500, 500, time_min=60)]
    out = simulate(jobs, backfill)
    assert by_id(out, "start") == {1: 0.0, 2: 100.0, 3: 0.0}
    assert by_id(out, "end")[3] == 100.0  # killed by its lowered limit: the head starts on time
    assert by_id(out, "run")[3] == 100.0


@pytest.mark.parametrize("backfill", ["easy", "conservative"])
def test_a_minimum_longer_than_the_hole_waits(backfill: str) -> None:
    jobs = [job(1, 3, 100, 100), job(2, 4, 100, 100), job(3, 1, 500, 500, time_min=150)]
    out = simulate(jobs, backfill)
    assert by_id(out, "start") == {1: 0.0, 2: 100.0, 3: 200.0}
    assert by_id(out, "end")[3] == 700.0  # started after the head: its whole limit, its whole run


@pytest.mark.parametrize("backfill", ["easy", "conservative"])
def test_a_job_that_fits_keeps_its_own_limit(backfill: str) -> None:
    jobs = [job(1, 3, 100, 100), job(2, 4, 100, 100), job(3, 1, 80, 30, time_min=10)]
    out = simulate(jobs, backfill)
    assert by_id(out, "start")[3] == 0.0
    assert by_id(out, "end")[3] == 30.0


def test_a_job_shorter_than_its_lowered_limit_runs_its_course() -> None:
    jobs = [job(1, 3, 100, 100), job(2, 4, 100, 100), job(3, 1, 500, 40, time_min=60)]
    out = simulate(jobs, "easy")
    assert by_id(out, "start")[3] == 0.0 and by_id(out, "end")[3] == 40.0


def test_the_plan_says_the_lowered_limit_and_the_engine_plans_on_it() -> None:
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=2)))
    s = Scheduler(NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), UserEstimate())

    def spec(jid: int, nodes: int, limit: float, **kw: Any) -> JobSpec:
        return JobSpec(jid, 0.0, tasks=nodes, per_task=Resources(cpus=2), nodes=nodes, time_limit=limit, **kw)

    s.submit(spec(1, 1, 300), 0.0)
    s.submit(spec(2, 2, 100), 0.0)  # the head: both nodes at 300
    s.submit(spec(3, 1, 3600, time_min=120), 0.0)
    s.submit(spec(4, 1, 3600), 0.0)  # no --time-min: would delay the head
    plan = s.cycle(0.0)
    got = {p.job_id: p for p in plan.starts}
    assert set(got) == {1, 3}
    assert got[1].time_limit is None
    assert got[3].time_limit == 300.0 and got[3].predicted_end == 300.0 and got[3].backfilled
    assert s.running[3].item.spec.time_limit == 300.0  # overruns are extended to the lowered limit, not 3600
    assert s.running[3].item.spec.time_min == 120


def test_a_minimum_above_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="--time-min"):
        JobSpec(job_id=1, submit_time=0.0, time_limit=60, time_min=120)
    with pytest.raises(ValueError, match="--time-min"):
        JobSpec(job_id=1, submit_time=0.0, time_limit=60, time_min=0)


def test_the_what_if_says_the_limit_a_minimum_would_start_a_job_with() -> None:
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=2)))
    s = Scheduler(NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), UserEstimate())

    def spec(jid: int, nodes: int, limit: float) -> JobSpec:
        return JobSpec(jid, 0.0, tasks=nodes, per_task=Resources(cpus=2), nodes=nodes, time_limit=limit)

    for job_spec in (spec(1, 1, 300), spec(2, 2, 100), spec(3, 1, 3600)):
        s.submit(job_spec, 0.0)
    assert {p.job_id for p in s.cycle(0.0).starts} == {1}
    assert limit_if_min(s, 10.0, 3) == 290.0  # the time left before the head's reservation
    assert limit_if_min(s, 10.0, 2) is None  # the head: no limit would start it now
    assert s.queue.get(3) is not None and s.queue.get(3).spec.time_min is None  # the scheduler is untouched
    assert 3 not in s.running


def test_forecasts_end_a_lowered_job_at_its_lowered_limit() -> None:
    """A forward run on requests must cut the backfilled job at 300 s, not run it its 3,600 s: the head's forecast
    start is when the job is killed for it."""
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=2)))
    s = Scheduler(NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), UserEstimate())
    s.submit(JobSpec(1, 0.0, tasks=1, per_task=Resources(cpus=2), nodes=1, time_limit=300), 0.0)
    s.submit(JobSpec(2, 0.0, tasks=2, per_task=Resources(cpus=2), nodes=2, time_limit=100), 0.0)
    s.submit(JobSpec(3, 0.0, tasks=1, per_task=Resources(cpus=2), nodes=1, time_limit=3600, time_min=120), 0.0)
    assert forward_starts(s, 0.0, "request", wanted=[2, 3]) == {3: 0.0, 2: 300.0}


def test_a_cut_job_may_go_on_while_the_head_still_cannot_start() -> None:
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=2)))
    s = Scheduler(NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), UserEstimate())
    s.submit(JobSpec(1, 0.0, tasks=1, per_task=Resources(cpus=2), nodes=1, time_limit=300), 0.0)
    s.submit(JobSpec(2, 0.0, tasks=2, per_task=Resources(cpus=2), nodes=2, time_limit=100), 0.0)
    s.submit(JobSpec(3, 0.0, tasks=1, per_task=Resources(cpus=2), nodes=1, time_limit=3600, time_min=120), 0.0)
    assert {p.job_id: p.time_limit for p in s.cycle(0.0).starts} == {1: None, 3: 300.0}
    assert free_until(s, 3, 290.0) == 300.0  # the head needs its node when job 1 ends: the cut stands
    s.extend(1, 900.0)  # job 1 outlived its plan: the head cannot start before 900
    assert free_until(s, 3, 290.0) == 900.0
    assert free_until(s, 1, 290.0) == 300.0  # job 3 planned to end at 300, then the head fits


class Optimist:
    """Predicts job 1 at 100 s (it runs 300): the head's planned start, and so job 3's cut, come too early."""

    name = "optimist"

    def predict(self, job: JobSpec) -> Estimate:
        point = 100.0 if job.job_id == 1 else float(job.time_limit or 0.0)
        return Estimate(point, point)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        pass


def test_in_the_simulator_a_cut_job_goes_on_until_the_head_can_start() -> None:
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=2)))

    def spec(jid: int, nodes: int, limit: float, run: float, **kw: Any) -> JobSpec:
        return JobSpec(jid, 0.0, tasks=nodes, per_task=Resources(cpus=2), nodes=nodes, time_limit=limit, runtime=run,
                       **kw)  # fmt: skip

    jobs = [spec(1, 1, 300, 300), spec(2, 2, 100, 100), spec(3, 1, 3600, 1000, time_min=60)]
    out = Simulation(jobs, NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), Optimist()).run()
    assert by_id(out, "start") == {1: 0.0, 3: 0.0, 2: 300.0}  # cut at 100 for the head; the head could not start
    assert by_id(out, "end")[3] == 300.0  # so it went on to the head's real start, and was cut there


def test_a_switches_head_s_wait_running_out_is_the_start_a_cut_job_yields_to() -> None:
    """QA: the head waits for one switch until its --switches wait runs out at 25 s, then takes the free nodes of
    both; the job cut for that start went on to its whole --time (80 s) and the head started then."""
    from hal.engine.plugins.topology import TopologySelector
    from hal.model.topology import Topology

    topo = Topology.tree(4, (2,), ("switch",))  # n000, n001 | n002, n003
    base = Cluster.uniform(4, Resources(cpus=2))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    book = NodeBook(table, selector=TopologySelector(topo))

    def spec(jid: int, limit: float, run: float, **kw: Any) -> JobSpec:
        nodes = kw.pop("nodes", 1)
        return JobSpec(jid, 0.0, tasks=nodes, per_task=Resources(cpus=2), nodes=nodes, time_limit=limit, runtime=run,
                       **kw)  # fmt: skip

    jobs = [
        spec(1, 300, 300, node_names=("n000",)),
        spec(2, 300, 300, node_names=("n002",)),
        spec(3, 20, 5, nodes=2, switches=1, switches_wait=25.0),  # no switch is free until 300
        spec(4, 80, 300, time_min=5),
    ]
    out = Simulation(jobs, book, table.space, Profile(order="fcfs", backfill="easy"), UserEstimate()).run()
    assert by_id(out, "start") == {1: 0.0, 2: 0.0, 3: 25.0, 4: 0.0}
    assert by_id(out, "end")[4] == 25.0  # cut where the head's wait runs out, and it starts there


def test_with_no_planned_start_for_the_head_a_cut_job_goes_on_a_step_at_a_time() -> None:
    assert moved_cut(math.inf, 0.0, 43200.0, 100.0) == 100.0 + STEP  # the head held, or kept out by a drain
    assert moved_cut(math.inf, 0.0, 200.0, 100.0) == 200.0  # never past its --time
    assert moved_cut(900.0, 0.0, 43200.0, 100.0) == 900.0  # a planned start: to it


def test_in_the_simulator_a_moved_cut_comes_back_when_the_head_can_start_sooner() -> None:
    """Job 3 is cut at 100 for the head (job 1 predicted to end then); job 1 outlives its prediction and is planned
    to its limit (1000), so the cut moves there; job 1 ends at 400 and the head then waits for job 3 alone: its cut
    comes back to 400 (as live: controller/lowered_limit.py), where it ran on to 1000 before."""
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=2)))

    def spec(jid: int, nodes: int, limit: float, run: float, **kw: Any) -> JobSpec:
        return JobSpec(jid, 0.0, tasks=nodes, per_task=Resources(cpus=2), nodes=nodes, time_limit=limit, runtime=run,
                       **kw)  # fmt: skip

    jobs = [spec(1, 1, 1000, 400), spec(2, 2, 100, 100), spec(3, 1, 3600, 3000, time_min=60)]
    out = Simulation(jobs, NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), Optimist()).run()
    assert by_id(out, "start") == {1: 0.0, 3: 0.0, 2: 400.0}
    assert by_id(out, "end") == {1: 400.0, 3: 400.0, 2: 500.0}


def test_a_moved_cut_never_comes_back_before_its_first_cut() -> None:
    """As above, but job 1 ends at 50, before job 3's first cut (100): job 3 keeps its first cut."""
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=2)))
    jobs = [
        JobSpec(1, 0.0, tasks=1, per_task=Resources(cpus=2), nodes=1, time_limit=1000, runtime=50),
        JobSpec(2, 0.0, tasks=2, per_task=Resources(cpus=2), nodes=2, time_limit=100, runtime=100),
        JobSpec(3, 0.0, tasks=1, per_task=Resources(cpus=2), nodes=1, time_limit=3600, runtime=3000, time_min=60),
    ]
    out = Simulation(jobs, NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), Optimist()).run()
    assert by_id(out, "end")[3] == 100.0 and by_id(out, "start")[2] == 100.0
