"""10,000 trivial jobs end to end through the live controller: submitted over REST, scheduled by the
engine, run as real processes by the LocalExecutor on the example 4-node cluster (8 slots), accounted.

Usage: python benchmarks/live_e2e.py [--jobs 10000] [--mode array|single]
  array:  as 10 arrays of jobs/10 tasks (what a user with many small tasks submits)
  single: one REST submission per job from 8 client threads, all submitted while earlier ones run
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.livekit import LiveServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--mode", choices=("array", "single"), default="array")
    args = ap.parse_args()
    live = LiveServer(Path(tempfile.mkdtemp(prefix="hal-bench-")))
    live.start()
    try:
        t0 = time.perf_counter()
        if args.mode == "array":
            per = args.jobs // 10
            with live.client() as c:
                ids = [c.submit(wrap="true", options={"array": f"0-{per - 1}"})["job_id"] for _ in range(10)]
        else:
            local = threading.local()

            def one(_: int) -> int:
                if not hasattr(local, "c"):
                    local.c = live.client()
                return int(local.c.submit(wrap="true")["job_id"])

            with ThreadPoolExecutor(8) as pool:
                ids = list(pool.map(one, range(args.jobs)))
        submitted = time.perf_counter() - t0
        with live.client() as c:
            while True:
                left = c.summary()
                if left["pending"] + left["running"] == 0:
                    break
                time.sleep(0.5)
            wall = time.perf_counter() - t0
            jobs = c.list(limit=100_000)
        states = Counter(j["state"] for j in jobs)
        print(f"{len(jobs)} jobs ({args.mode}): submitted in {submitted:.1f} s, all ended after {wall:.1f} s "
              f"-> {len(jobs) / wall:.1f} jobs/s end to end; states {dict(states)}")  # fmt: skip
        starts = sorted(j["start_time"] for j in jobs)
        ends = sorted(j["end_time"] for j in jobs)
        print(f"first start -> last end: {ends[-1] - starts[0]:.1f} s; ids {ids[0]}..{ids[-1]}")
    finally:
        live.stop()


if __name__ == "__main__":
    main()
