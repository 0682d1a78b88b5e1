"""benchmarks/data_locality.py says an egress change in dollars beside the percentage: against a $0 baseline the
percentage is n/a, and a rise to $0.31 was reported as "n/a (baseline 0)" alone (QA), where the wait column says
its difference (+5.50 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "data_locality.py"


def test_an_egress_rise_from_a_zero_baseline_is_said_in_dollars() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--jobs", "20", "--seeds", "7", "--policies", "data-unaware,data-aware"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    base = next(r for r in rows if r.startswith("| data-unaware |"))
    aware = next(r for r in rows if r.startswith("| data-aware |") and "median" not in r)
    paid = float(aware.split("|")[5])  # egress_dollars
    assert float(base.split("|")[5]) == 0 and paid > 0, done.stdout
    assert f"egress n/a (baseline 0) (+${paid:.2f})" in done.stdout, done.stdout
    assert rows[-1].startswith("| data-aware |") and f"| n/a (baseline 0) | +${paid:.2f} |" in rows[-1], rows[-1]
