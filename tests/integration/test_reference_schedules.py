"""HAL's EASY reproduces an independent simulator (pyss) job for job on the embedded reference inputs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hal.engine.profile import Profile
from hal.sim.runner import SimOptions, run
from hal.sim.swf import read_swf
from tests.conftest import shared_trace

CASES = [
    ("KTH-SP2.pyss-EASY-reqtime.swf", "queue", "user", 92.58),
    ("SDSC-SP2.pyss-EASY-reqtime.swf", "queue", "user", 87.87),
    ("CTC-SP2.pyss-EASY-reqtime.swf", "queue", "user", 49.57),
    ("KTH-SP2.pyss-EASY-SJBF-clairvoyant.swf", "sjf", "actual", 49.85),
    ("SDSC-SP2.pyss-EASY-SJBF-clairvoyant.swf", "sjf", "actual", 56.84),
    ("CTC-SP2.pyss-EASY-SJBF-clairvoyant.swf", "sjf", "actual", 17.57),
]


@pytest.mark.parametrize(("name", "backfill_order", "estimate", "published_bsld"), CASES)
def test_every_start_time_matches(name: str, backfill_order: str, estimate: str, published_bsld: float) -> None:
    path = shared_trace(f"reference_schedules/{name}")
    opts = SimOptions(Profile(order="fcfs", backfill="easy", backfill_order=backfill_order), estimate=estimate)
    result = run(path, opts)
    expected = {r.job_id: r.submit + r.wait for r in result.trace.records}
    got = dict(zip(result.outcome.job_id.tolist(), result.outcome.start.tolist(), strict=True))
    assert len(got) == len(expected)
    wrong = [(j, got[j], expected[j]) for j in expected if got[j] != expected[j]]
    assert not wrong, f"{len(wrong)} jobs start at another time than pyss, first: {wrong[:5]}"
    assert result.summary.avg_bsld == pytest.approx(published_bsld, abs=0.006)


def test_cli_jobs_out_has_the_reference_waits(tmp_path: object) -> None:
    from pathlib import Path

    path = shared_trace("reference_schedules/KTH-SP2.pyss-EASY-reqtime.swf")
    out = Path(str(tmp_path)) / "jobs.swf"
    summary = Path(str(tmp_path)) / "summary.json"
    cmd = [sys.executable, "-m", "hal", "simulate", str(path), "--order", "fcfs", "--backfill", "easy"]
    cmd += ["--estimate", "user", "--jobs-out", str(out), "--summary-out", str(summary)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    ours = {r.job_id: r.wait for r in read_swf(out).records}
    ref = {r.job_id: r.wait for r in read_swf(path).records}
    assert ours == ref
    import json

    data = json.loads(summary.read_text())
    for key in ("jobs", "avg_wait", "avg_bsld", "max_bsld", "utilization", "makespan", "wall_seconds"):
        assert key in data
    assert data["jobs_per_second"] > 0
