"""Job-by-job agreement of HAL's EASY with the pyss reference schedules (../shared/traces/reference_schedules)."""

from __future__ import annotations

import sys
from pathlib import Path

from hal.engine.profile import Profile
from hal.sim.runner import SimOptions, run

REFS = Path(__file__).resolve().parents[2] / "shared" / "traces" / "reference_schedules"
CASES = [
    ("KTH-SP2.pyss-EASY-reqtime.swf", "queue", "user", 92.58),
    ("CTC-SP2.pyss-EASY-reqtime.swf", "queue", "user", 49.57),
    ("SDSC-SP2.pyss-EASY-reqtime.swf", "queue", "user", 87.87),
    ("KTH-SP2.pyss-EASY-SJBF-clairvoyant.swf", "sjf", "actual", 49.85),
    ("CTC-SP2.pyss-EASY-SJBF-clairvoyant.swf", "sjf", "actual", 17.57),
    ("SDSC-SP2.pyss-EASY-SJBF-clairvoyant.swf", "sjf", "actual", 56.84),
]


def main() -> int:
    if not REFS.exists():
        print(f"{REFS} not found: this check needs ../shared beside the repository", file=sys.stderr)
        return 2
    print("| reference schedule | jobs | same start time | HAL avg bsld | published avg bsld | sim s |")
    print("|---|---|---|---|---|---|")
    for name, order, estimate, published in CASES:
        profile = Profile(order="fcfs", backfill="easy", backfill_order=order)
        result = run(REFS / name, SimOptions(profile, estimate=estimate))
        ref = {r.job_id: r.submit + r.wait for r in result.trace.records}
        starts = dict(zip(result.outcome.job_id.tolist(), result.outcome.start.tolist(), strict=True))
        same = sum(1 for j, t in ref.items() if starts.get(j) == t)
        print(
            f"| {name} | {len(ref):,} | {same:,} ({same / len(ref):.1%}) | {result.summary.avg_bsld:.2f} "
            f"| {published:.2f} | {result.summary.wall_seconds:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
