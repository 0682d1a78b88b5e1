"""The benchmark CLIs refuse bad input with an argparse error (not a traceback or a nonsense row), and say
n/a where a comparison has no baseline (QA: forecast_accuracy.py, data_locality.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
SAMPLE = Path(__file__).resolve().parents[2] / "src/hal/data/kth-sp2-sample.swf"


def bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--dry", "NOPE"), "'NOPE' is neither a trace name"),
        (("--by-user", "-1"), "--by-user: must be >= 0"),
        (("--members", "0"), "--members: must be > 0"),
        (("--samples", "0"), "--samples: must be > 0"),
        (("--samples", "-5"), "--samples: must be > 0"),
    ],
)
def test_forecast_accuracy_refuses_bad_options(args: tuple[str, ...], said: str) -> None:
    done = bench("forecast_accuracy.py", *args)
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_forecast_accuracy_takes_a_path_to_any_swf_trace() -> None:
    done = bench("forecast_accuracy.py", "--dry", "--samples", "10", "--members", "2", str(SAMPLE))
    assert done.returncode == 0 and done.stdout.startswith("| kth-sp2-sample.swf | "), done.stdout + done.stderr


def test_data_locality_says_n_a_against_a_zero_baseline_and_without_one() -> None:
    done = bench("data_locality.py", "--jobs", "5", "--seeds", "7")  # every policy pays $0 egress here
    assert done.returncode == 0 and "egress n/a (baseline 0)" in done.stdout, done.stdout + done.stderr
    assert "-100.0%" not in done.stdout.split("egress")[1].split(",")[0], done.stdout
    done = bench("data_locality.py", "--jobs", "5", "--seeds", "7", "--policies", "data-aware")
    assert done.returncode == 0 and "no comparison: the run has one policy (data-aware)" in done.stdout, done.stdout
    assert "seeds must be >= 0" in bench("data_locality.py", "--seeds", "-1").stderr
