"""Overrun corrections in the simulator: each lands strictly after the instant it is made."""

from __future__ import annotations

import multiprocessing

from hal.engine.api import Estimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import Simulation, corrected_end, pool_for


class HalfLimit:
    """Predicts half the limit, in fractions of a second as a learned model may."""

    name = "half"

    def predict(self, job: JobSpec) -> Estimate:
        limit = job.time_limit or 1.0
        return Estimate(limit / 2, limit)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


def _simulate(rule: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    # Job 1 ends at 1000.1, so job 2 starts there; with its 60 s limit it is found overrunning at 1060.1
    # where only 59.99999999999989 s have elapsed in floating point.
    jobs = [
        JobSpec(job_id=1, submit_time=1000.0, time_limit=10.0, runtime=0.1),
        JobSpec(job_id=2, submit_time=1000.0, time_limit=60.0, runtime=100.0),
    ]
    book, space = pool_for(1)
    done = Simulation(jobs, book, space, Profile(correction=rule), HalfLimit()).run()
    out.put(done.end.tolist())


def test_a_correction_that_rounds_back_onto_now_still_moves_on() -> None:
    """Bug: start + extend(now - start) == now for some fractional starts; the simulator then corrected
    the same job at the same instant forever (seen as a hang on CTC-SP2 before predictions were rounded)."""
    assert (1000.1 + 60.0) - 1000.1 < 60.0  # the rounding this test relies on
    assert corrected_end(1000.1, 1060.1, 60.0, "reqtime") > 1060.1

    ctx = multiprocessing.get_context("fork")
    for rule in ("reqtime", "ladder", "double"):
        out = ctx.Queue()
        proc = ctx.Process(target=_simulate, args=(rule, out))
        proc.start()
        proc.join(20)
        if proc.is_alive():
            proc.kill()
            proc.join()
            raise AssertionError(f"{rule}: the simulation did not finish (endless correction)")
        assert out.get(timeout=5) == [1000.1, 1100.1]
