"""Slurm's TRESBillingWeights for fair share (QA): without them a job is billed its CPUs, so a 32-GPU job on 4
CPUs weighed an eighth of a 32-CPU job; with ``billing_weights`` each resource asked for weighs its part."""

from __future__ import annotations

import pytest

from hal.engine.accrual import current_usage
from hal.engine.billing import Weights, parse_weights
from hal.engine.capacity import PoolBook
from hal.engine.cycle import Scheduler
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.model.resources import Resources, ResourceSpace


def test_weights_read_slurm_s_syntax() -> None:
    assert parse_weights("") is None
    assert parse_weights("CPU=1.0,Mem=0.25G,GRES/gpu=2.0") == Weights(1.0, 0.25 / 1024, 2.0)
    assert parse_weights("gres/GPU=8") == Weights(0.0, 0.0, 8.0)  # a resource left out weighs nothing
    assert parse_weights("mem=2") == Weights(0.0, 2.0, 0.0)  # per MB without a suffix
    for bad, said in [
        ("CPU", "is not CPU=N"),
        ("Node=1", "is not CPU=N"),
        ("CPU=x", "is not a number"),
        ("CPU=-1", ">= 0"),
        ("CPU=1,cpu=2", "given twice"),
        ("GRES/gpu=nan", ">= 0"),
    ]:
        with pytest.raises(ValueError, match=said):
            parse_weights(bad)
    with pytest.raises(ValueError, match="billing_weights"):
        Profile(billing_weights="CPU=x")
    with pytest.raises(ValueError, match="billing_weights is a text"):
        Profile(billing_weights=1)  # type: ignore[arg-type]


def _usage(weights: str) -> dict[str, float]:
    s = Scheduler(PoolBook((64, 0, 64)), ResourceSpace(), Profile(billing_weights=weights), UserEstimate())
    gpus = JobSpec(1, 0.0, tasks=4, per_task=Resources(cpus=1, gpus=8), time_limit=1000.0, user="ai")
    cpus = JobSpec(2, 0.0, tasks=32, time_limit=1000.0, user="hpc")
    for job in (gpus, cpus):
        s.submit(job, 0.0)
    assert len(s.cycle(0.0).starts) == 2
    s.finish(1, 100.0)
    s.finish(2, 100.0)
    return current_usage(s, 100.0)


def test_gpu_hours_count_with_weights_only() -> None:
    plain = _usage("")
    assert plain["ai"] == pytest.approx(4 * 100, rel=1e-3) and plain["hpc"] == pytest.approx(32 * 100, rel=1e-3)
    weighed = _usage("CPU=1,GRES/gpu=8")
    assert weighed["ai"] == pytest.approx((4 + 8 * 32) * 100, rel=1e-3)
    assert weighed["hpc"] == pytest.approx(32 * 100, rel=1e-3)
