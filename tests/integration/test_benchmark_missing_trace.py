"""QA: the topology benchmarks crashed with a traceback on a missing trace, topology_philly.py printed nan and
'1.000 vs 1.000' for a trace without multi-GPU jobs, and data_locality.py counted a repeated seed twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_benchmark_inputs import bench


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("topology_fattree.py", ("--trace", "/nonexistent.swf", "--jobs", "10")),
        ("topology_philly.py", ("--trace", "/nonexistent")),
        ("forecast_floor.py", ("NOPE",)),
        ("predict_accuracy.py", ("NOPE",)),
        ("predict_alpha_sweep.py", ("--traces", "NOPE")),
        ("tune_rlscheduler.py", ("--traces", "NOPE")),
    ],
)
def test_a_missing_trace_is_a_usage_error(script: str, args: tuple[str, ...]) -> None:
    done = bench(script, *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "no such file" in done.stderr or "unknown trace 'NOPE'" in done.stderr, done.stderr


def test_philly_without_multi_gpu_jobs_says_so(tmp_path: Path) -> None:
    trace = tmp_path / "one.swf"
    trace.write_text("1 0 -1 10 1 -1 -1 1 30 -1 1 1 1 -1 -1 -1 -1 -1\n")
    done = bench("topology_philly.py", "--trace", str(trace))
    assert done.returncode == 1 and "no multi-GPU jobs" in done.stderr, done.stderr
    assert "Warning" not in done.stderr and "nan" not in done.stdout and "1.000 vs 1.000" not in done.stdout


def test_philly_with_only_small_gpu_jobs_prints_no_nan(tmp_path: Path) -> None:
    trace = tmp_path / "small.swf"
    trace.write_text("1 0 -1 10 4 -1 -1 4 30 -1 1 1 1 -1 -1 -1 -1 -1\n2 5 -1 10 2 -1 -1 2 30 -1 1 1 1 -1 -1 -1 -1 -1\n")
    done = bench("topology_philly.py", "--trace", str(trace), "--blocks", "1")
    assert done.returncode == 0, done.stderr
    assert "nan" not in done.stdout and "Warning" not in done.stderr and "no multi-node GPU jobs" in done.stdout


def test_data_locality_refuses_a_repeated_seed() -> None:
    done = bench("data_locality.py", "--seeds", "7,7", "--jobs", "10")
    assert done.returncode == 2 and "seed 7 given more than once" in done.stderr, done.stderr
