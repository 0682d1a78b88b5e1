"""Scheduler.clone() and start forecasts: a clone plans like the original and never touches it."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

from hal.engine.api import Estimate
from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster, StartEstimate, forward_starts
from hal.engine.profile import Profile
from hal.model.job import Dependency, DependencyKind, JobSpec
from hal.sim.simulator import pool_for


class Table:
    """Fixed predictions per job; counts what it is taught, so a forecast that teaches it shows."""

    name = "table"

    def __init__(self, points: dict[int, tuple[float, float]]) -> None:
        self.points = points
        self.observed: list[int] = []

    def predict(self, job: JobSpec) -> Estimate:
        return Estimate(*self.points[job.job_id])

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        self.observed.append(job.job_id)


def busy(profile: Profile) -> tuple[Scheduler, Table]:
    """Job 1 holds 4 of 6 cpus until 100; jobs 2-5 wait behind it."""
    book, space = pool_for(6)
    table = Table({1: (100.0, 150.0), 2: (50.0, 80.0), 3: (30.0, 60.0), 4: (20.0, 40.0), 5: (200.0, 300.0)})
    s = Scheduler(book, space, profile, table)
    s.submit(JobSpec(1, 0.0, tasks=4, time_limit=1000.0), 0.0)
    s.cycle(0.0)
    s.submit(JobSpec(2, 5.0, tasks=6, time_limit=500.0), 5.0)
    s.submit(JobSpec(3, 6.0, tasks=2, time_limit=400.0), 6.0)
    s.submit(JobSpec(4, 6.0, tasks=3, time_limit=300.0), 6.0)
    s.submit(JobSpec(5, 7.0, tasks=2, time_limit=900.0, user="bob"), 7.0)
    s.cycle(7.0)
    return s, table


def drive(s: Scheduler, times: list[float]) -> list[tuple[float, int]]:
    """Finish every running job at its predicted end and cycle; the starts, in order."""
    out = []
    for t in times:
        for jid in [j for j, a in s.running.items() if a.predicted_end <= t]:
            s.finish(jid, t)
        out += [(t, p.job_id) for p in s.cycle(t).starts]
    return out


def state(s: Scheduler) -> tuple[object, ...]:
    running = {j: (a.predicted_end, a.released) for j, a in s.running.items()}
    return s.book.free_cpus(), [w.spec.job_id for w in s.queue.items()], running, list(s.ends), s.epoch


def test_clone_plans_like_the_original_and_leaves_it_alone() -> None:
    for profile in (Profile(), Profile(order="multifactor"), Profile(backfill="conservative")):
        s, table = busy(profile)
        before = state(s)
        twin = s.clone(Table(table.points))
        got = drive(twin, [100.0, 150.0, 200.0, 400.0])
        assert sorted(j for _, j in got) == [2, 4, 5] and 1 in twin.outcomes and 1 in s.running
        assert state(s) == before and table.observed == [] and not s.outcomes
        assert drive(s, [100.0, 150.0, 200.0, 400.0]) == got  # the original, run later, does the same


def test_point_forecast_and_squeue_start_on_requests() -> None:
    s, table = busy(Profile())
    assert forward_starts(s, 7.0, "point") == {2: 100.0, 4: 150.0, 5: 150.0}  # 3 was backfilled at 7
    assert forward_starts(s, 7.0, "request", wanted=[4]) == {4: 1500.0}
    assert table.observed == []


def test_ensemble_with_exact_predictions_is_the_point_forecast() -> None:
    s, table = busy(Profile())
    f = Forecaster(members=5)
    for _ in range(60):
        f.observe(100.0, 100.0)
    est = f.starts(s, 7.0)
    assert {j: e.p50 for j, e in est.items()} == forward_starts(s, 7.0, "point")
    assert all(e.p90 >= e.p50 for e in est.values()) and table.observed == []


def test_ensemble_spreads_p90_and_extends_a_job_past_every_ratio() -> None:
    s, _ = busy(Profile())
    f = Forecaster(members=40, by_user=0)
    for k in range(100):
        f.observe(100.0, 50.0 + 2.0 * k)  # runs take 0.5x to 2.5x their prediction
    est = f.starts(s, 7.0)
    assert est[2].p50 < est[2].p90 and all(e.p50 <= e.p90 for e in est.values())
    # Job 1 predicted 100 s has run 400 s, past every observed ratio: it ends between now and its 1,000 s limit
    # (log-uniform), neither at once nor, in every member, at the limit.
    late = f.starts(s, 400.0, wanted=[2])[2]
    assert 400.0 < late.p50 < late.p90 <= 1000.0
    assert abs(math.log(late.p50) - 0.5 * math.log(400.0 * 1000.0)) < 0.25


def test_too_few_completions_fall_back_to_point_and_upper_runs() -> None:
    s, _ = busy(Profile())
    est = Forecaster().starts(s, 7.0)
    assert est[2].p50 == 100.0 and est[2].p90 == 150.0
    assert all(math.isfinite(e.p90) for e in est.values())


def test_a_users_own_errors_are_drawn_once_there_are_enough() -> None:
    s, _ = busy(Profile())
    f = Forecaster(members=9, by_user=8)
    for _ in range(60):
        f.observe(100.0, 100.0, "others")  # everyone else's jobs run exactly as predicted
    for _ in range(8):
        f.observe(100.0, 30.0, "nobody")  # this user's jobs end at 30% of their prediction
    # Job 1 (user nobody, predicted 100 s, 4 cpus) is drawn to end at 30 s, so job 2 (all 6 cpus) starts then.
    assert f.starts(s, 7.0, wanted=[2])[2].p50 == 30.0
    assert Forecaster(members=9, by_user=0, ratios=f.ratios).starts(s, 7.0, wanted=[2])[2].p50 > 30.0


def test_p90_is_placed_by_how_earlier_forecasts_fared() -> None:
    s, _ = busy(Profile())
    f = Forecaster(members=9)
    for _ in range(60):
        f.observe(100.0, 100.0)
    raw = f.ensemble(s, 7.0)
    assert f.calibrated(7.0, raw) == raw  # nothing learned yet
    for job in range(100, 140):  # earlier jobs started halfway from their p90 to their plan on requests
        f.calibrated(0.0, {job: StartEstimate(job, 5.0, 10.0, 30.0)})
        f.started(job, 20.0)
    got = f.calibrated(7.0, raw)
    halfway = {j: e.p90 + 0.5 * (max(e.requests, e.p90) - e.p90) for j, e in raw.items()}
    assert all(got[j].p90 == max(raw[j].p50, halfway[j]) and got[j].p50 == raw[j].p50 for j in raw)
    early = Forecaster(members=9)  # QA: jobs that all started long before their p90 (an array draining fast)
    for job in range(100, 140):
        early.calibrated(0.0, {job: StartEstimate(job, 5.0, 100.0, 200.0)})
        early.started(job, 7.0)  # scores 0.07: the p90s were narrowed onto the p50s, and then missed
    assert early.calibrated(7.0, raw) == raw  # never narrower than the ensemble's own spread


def test_clone_without_history_keeps_what_held_jobs_wait_for() -> None:
    s, table = busy(Profile())
    for old in range(1000, 1100):
        s.remember(old, ok=old != 1050)
    table.points[20] = table.points[21] = (10.0, 10.0)
    s.submit(JobSpec(20, 8.0, tasks=6, time_limit=50.0, dependencies=(Dependency(DependencyKind.AFTEROK, 1),)), 8.0)
    s.submit(JobSpec(21, 8.0, tasks=1, dependencies=(Dependency(DependencyKind.AFTEROK, 1050),)), 8.0)
    twin = s.clone(Table(table.points), history=False)
    assert twin.outcomes == {1050: False} and len(s.outcomes) == 100
    assert 1000 not in twin.known and {1, 2, 20, 21} <= twin.known
    starts = drive(twin, [100.0, 150.0, 160.0, 400.0])
    assert starts[-1] == (400.0, 20) and 21 not in {j for _, j in starts}  # 20 queued once 1 ended ok


def test_forecasts_relax_a_switch_constraint_when_its_wait_runs_out() -> None:
    """The clone's cycles carry their own time to the book, so --switches=1@maxwait relaxes in a forecast as it
    does live: the job is forecast to start spread when its wait ends, not when a whole leaf frees up."""
    from hal.engine.nodes import NodeBook
    from hal.engine.plugins.topology import TopologySelector
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.resources import Resources
    from hal.model.topology import Topology

    topo = Topology.tree(4, (2,), ("switch",))  # two leaves of two nodes
    base = Cluster.uniform(4, Resources(cpus=1))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    s = Scheduler(NodeBook(table, selector=TopologySelector(topo)), table.space, Profile(), Table({}))
    s.predictor = Table({1: (1000.0, 1000.0), 2: (5.0, 5.0), 4: (1000.0, 1000.0), 3: (50.0, 50.0), 5: (50.0, 50.0)})
    for jid, limit in ((1, 1000.0), (2, 5.0), (4, 1000.0)):  # best fit: 1 and 2 fill leaf 0, 4 goes to leaf 1
        s.submit(JobSpec(jid, 0.0, tasks=1, nodes=1, time_limit=limit), 0.0)
    s.cycle(0.0)
    s.finish(2, 5.0)  # now one node is free in each leaf, until 1000
    s.cycle(5.0)
    wide = JobSpec(3, 10.0, tasks=2, nodes=2, switches=1, switches_wait=100.0, time_limit=50.0)
    s.submit(wide, 10.0)
    assert not s.cycle(10.0).starts  # two free nodes, but in two leaves: it waits for its switch
    assert forward_starts(s, 20.0, "point") == {3: 110.0}  # submit + maxwait, then spread over both leaves

    # QA: held (or waiting on a dependency), a job's switch wait ran from its submission, so it was spent when
    # it was released; it runs from when the job could first start, as Slurm's clock starts
    late = JobSpec(5, 10.0, tasks=2, nodes=2, switches=1, switches_wait=100.0, time_limit=50.0, held=True)
    s.submit(late, 10.0)
    s.cancel(3)
    s.held[5] = replace(s.held[5], spec=replace(late, held=False))  # released at 200
    assert not s.cycle(200.0).starts and not s.cycle(250.0).starts  # its own wait: not over at 250
    assert forward_starts(s, 250.0, "point") == {5: 300.0}
    assert [p.job_id for p in s.cycle(300.0).starts] == [5]


def test_the_forecasters_learned_errors_survive_a_restart(tmp_path: Path) -> None:
    """`hal server` saves them at shutdown and reads them at start; a damaged file means learning again."""
    from hal.controller.startboard import StartBoard

    board = StartBoard()
    for i in range(60):
        board.forecaster.observe(100.0, 50.0 + i, user=f"u{i % 3}")
    board.forecaster.scores.extend([0.5, 1.5])
    board.save(tmp_path / "f.json")
    again = StartBoard()
    assert again.load(tmp_path / "f.json") == 60
    assert list(again.forecaster.ratios) == list(board.forecaster.ratios)
    assert {u: list(v) for u, v in again.forecaster.users.items()} == {
        u: list(v) for u, v in board.forecaster.users.items()
    }
    assert list(again.forecaster.scores) == [0.5, 1.5]
    (tmp_path / "bad.json").write_text('{"ratios": [[0, "x"]]}')
    assert StartBoard().load(tmp_path / "bad.json") == 0
    state = board.forecaster.state()
    state["users"]["u0"][0] = float("nan")  # written back at shutdown, it failed every listing after a restart
    (tmp_path / "nan.json").write_text(json.dumps(state))
    assert StartBoard().load(tmp_path / "nan.json") == 0
    for key in ("ratios", "users"):  # finite but huge: it passed, and every forecast after it overflowed (QA)
        huge = board.forecaster.state()
        if key == "ratios":
            huge["ratios"][0] = [huge["ratios"][0][0], 1e308]
        else:
            huge["users"]["u0"][0] = 1e308
        (tmp_path / "huge.json").write_text(json.dumps(huge))
        assert StartBoard().load(tmp_path / "huge.json") == 0
    assert StartBoard().load(tmp_path / "missing.json") == 0


def test_held_jobs_get_forecasts_at_their_begin_time_or_after_what_they_wait_for() -> None:
    """`hal queue --start` showed N/A for a --begin job (which started exactly at its begin time) and for jobs
    waiting on a dependency; forward runs now wake at begin times and release dependents as jobs end."""
    book, space = pool_for(6)
    table = Table({1: (100.0, 150.0), 2: (10.0, 10.0), 3: (10.0, 10.0), 4: (10.0, 10.0)})
    s = Scheduler(book, space, Profile(), table)
    s.submit(JobSpec(1, 0.0, tasks=6, time_limit=1000.0), 0.0)
    s.cycle(0.0)
    s.submit(JobSpec(2, 1.0, tasks=1, time_limit=60.0, begin_time=500.0), 1.0)  # the machine is free by then
    after = (Dependency(DependencyKind.AFTEROK, 1),)
    s.submit(JobSpec(3, 1.0, tasks=6, time_limit=60.0, dependencies=after), 1.0)
    never = (Dependency(DependencyKind.AFTERNOTOK, 1),)
    s.submit(JobSpec(4, 1.0, tasks=1, time_limit=60.0, dependencies=never), 1.0)
    got = forward_starts(s, 1.0)
    assert got == {2: 500.0, 3: 100.0}  # job 4 needs job 1 to fail: no forecast


def test_start_if_a_shorter_limit_backfills_and_leaves_the_scheduler_alone() -> None:
    """Job 5 (2 cpus, predicted 200 s) waits behind job 2's reservation at 100; capped at 60 s by a shorter
    limit it fits the 2 cpus job 3 frees at 37 before then (90 s would not): its start moves from 150 to 37."""
    from hal.engine.advice import start_if

    s, table = busy(Profile())
    before = state(s)
    assert start_if(s, 7.0, 5) == 150.0  # as submitted: the planner's own forecast
    assert start_if(s, 7.0, 5, time_limit=60.0) == 37.0
    assert start_if(s, 7.0, 5, time_limit=90.0) == 150.0
    assert start_if(s, 7.0, 5, time_limit=5000.0) == 150.0  # a longer limit does not lengthen the prediction
    assert start_if(s, 7.0, 1) is None  # running, not pending
    assert state(s) == before and table.observed == []
    assert next(w for w in s.queue.items() if w.spec.job_id == 5).spec.time_limit == 900.0
