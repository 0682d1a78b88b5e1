"""EASY and conservative backfilling on small hand-made schedules whose right answer is known."""

from __future__ import annotations

from typing import Any

from hal.engine.capacity import PoolBook
from hal.engine.plan import Plan
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.model.resources import Resources, ResourceSpace
from hal.sim.simulator import Simulation, pool_for


def job(jid: int, procs: int, limit: float, run: float, submit: float = 0.0) -> JobSpec:
    return JobSpec(job_id=jid, submit_time=submit, tasks=procs, time_limit=limit, runtime=run)


def starts(jobs: list[JobSpec], procs: int, backfill: str, **kw: Any) -> dict[int, float]:
    book, space = pool_for(procs)
    out = Simulation(jobs, book, space, Profile(backfill=backfill, **kw), make_predictor("user")).run()
    return dict(zip(out.job_id.tolist(), out.start.tolist(), strict=True))


def reservations(jobs: list[JobSpec], procs: int, backfill: str) -> tuple[dict[int, float], dict[int, list[float]]]:
    made: dict[int, list[float]] = {}

    def watch(plan: Plan, _: object) -> None:
        for r in plan.reservations:
            made.setdefault(r.job_id, []).append(r.start)

    book, space = pool_for(procs)
    sim = Simulation(jobs, book, space, Profile(backfill=backfill), make_predictor("user"), on_plan=watch)
    out = sim.run()
    return dict(zip(out.job_id.tolist(), out.start.tolist(), strict=True)), made


# ---- EASY ----------------------------------------------------------------------------------------
def test_easy_backfills_a_short_job_before_the_head() -> None:
    # 4 procs: job 1 holds 3 until 100; head job 2 needs 4 (shadow 100); job 3 (1 proc, 50 s) fits the hole.
    jobs = [job(1, 3, 100, 100), job(2, 4, 100, 100), job(3, 1, 50, 50)]
    assert starts(jobs, 4, "easy") == {1: 0.0, 2: 100.0, 3: 0.0}
    assert starts(jobs, 4, "none") == {1: 0.0, 2: 100.0, 3: 200.0}


def test_easy_refuses_a_candidate_that_would_delay_the_head() -> None:
    jobs = [job(1, 3, 100, 100), job(2, 4, 100, 100), job(3, 1, 500, 500)]
    assert starts(jobs, 4, "easy")[3] == 200.0


def test_easy_extra_rule_lets_a_long_job_use_processors_the_head_does_not_need() -> None:
    # 4 procs: job 1 holds 2 until 100; the head needs 3 at 100, leaving 1 extra: a long 1-proc job may run.
    jobs = [job(1, 2, 100, 100), job(2, 3, 100, 100), job(3, 1, 1000, 1000), job(4, 1, 1000, 1000)]
    got = starts(jobs, 4, "easy")
    assert got[3] == 0.0  # uses the extra processor
    assert got[4] == 200.0  # a second one would take a processor the head needs at 100
    assert got[2] == 100.0


def test_easy_sjf_backfill_order_prefers_the_shorter_candidate() -> None:
    # Job 1 fills the machine until 5; then job 2 takes 3 procs, head job 3 waits for 105 and two 1-proc
    # candidates both end before it: queue order picks job 4 first, SJBF the shorter job 5.
    jobs = [job(1, 4, 5, 5), job(2, 3, 100, 100), job(3, 4, 100, 100), job(4, 1, 90, 90), job(5, 1, 10, 10)]
    fifo = starts(jobs, 4, "easy")
    assert (fifo[4], fifo[5], fifo[3]) == (5.0, 95.0, 105.0)
    sjbf = starts(jobs, 4, "easy", backfill_order="sjf")
    assert (sjbf[5], sjbf[4], sjbf[3]) == (5.0, 15.0, 105.0)


def test_easy_head_starts_by_its_shadow_time() -> None:
    jobs = [job(1, 2, 100, 30), job(2, 2, 200, 200), job(3, 4, 100, 100), job(4, 2, 60, 60)]
    got, made = reservations(jobs, 4, "easy")
    assert made[3] and all(got[3] <= r for r in made[3])


# ---- conservative ----------------------------------------------------------------------------------
def test_conservative_backfills_only_into_holes_that_delay_no_reservation() -> None:
    # Job 3 is reserved at 100; job 4 (1 proc, 500 s) would delay it, job 5 (1 proc, 50 s) does not.
    jobs = [job(1, 3, 100, 100), job(2, 1, 20, 20), job(3, 4, 100, 100), job(4, 1, 500, 500), job(5, 1, 50, 50)]
    got = starts(jobs, 4, "conservative")
    assert got[3] == 100.0
    assert got[5] == 20.0
    assert got[4] == 200.0


def test_conservative_never_hands_out_what_a_job_started_this_cycle_holds() -> None:
    """Bug: a job started in a cycle with a zero estimate (limit 0) counted as free at once, so a second job
    started beside it on a 1-processor machine while the first was still running."""
    jobs = [job(1, 1, 5, 5), job(2, 1, 0, 10), job(3, 1, 5, 5)]
    assert starts(jobs, 1, "conservative") == {1: 0.0, 2: 5.0, 3: 15.0}


def test_conservative_keeps_its_promises_when_jobs_end_early() -> None:
    """Bug: reservations were rebuilt from scratch each cycle, so when job 1 ended early job 3 took the hole
    job 4 had been promised (start 5) and job 4 started at 15. Conservative backfilling compresses: a
    reservation may only move earlier."""
    jobs = [job(1, 2, 10, 4), job(2, 1, 5, 5), job(3, 3, 10, 10), job(4, 1, 5, 5)]
    got, made = reservations(jobs, 3, "conservative")
    assert made[4][0] == 5.0
    broken = {j: (got[j], r) for j, rs in made.items() for r in rs if got[j] > r}
    assert not broken, f"jobs started after their reservation (start, promised): {broken}"
    assert got[4] <= 5.0


def test_easy_backfills_a_job_that_needs_no_processor_when_all_are_taken() -> None:
    # 4 CPUs and 2 GPUs: job 1 takes every CPU until 50; head job 2 waits for them; job 3 needs a GPU only.
    def gpu_job(jid: int, cpus: int, gpus: int, submit: float) -> JobSpec:
        return JobSpec(jid, submit, tasks=1, per_task=Resources(cpus, 0, gpus), time_limit=100.0, runtime=50.0)

    jobs = [gpu_job(1, 4, 0, 0.0), gpu_job(2, 4, 1, 1.0), gpu_job(3, 0, 1, 2.0)]
    out = Simulation(jobs, PoolBook((4, 0, 2)), ResourceSpace(), Profile(backfill="easy"), make_predictor("user")).run()
    got = dict(zip(out.job_id.tolist(), out.start.tolist(), strict=True))
    assert got[3] == 2.0 and got[2] == 50.0  # before the fix, job 3 waited for the head (50.0)
