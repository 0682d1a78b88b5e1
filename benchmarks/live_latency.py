"""Submit-to-start latency of a trivial job on an idle cluster, through the real server and LocalExecutor.

Three clocks per job: the client's time just before POST /v1/jobs, the controller's recorded start (the
plan applied and committed), and the first instruction of the job's own script (it prints `date +%s.%N`).
One job at a time, each waited for, so the cluster is idle at every submission.
Usage: python benchmarks/live_latency.py [--jobs 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.livekit import LiveServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100)
    args = ap.parse_args()
    live = LiveServer(Path(tempfile.mkdtemp(prefix="hal-bench-")))
    live.start()
    decided, running, total = [], [], []
    try:
        with live.client() as c:
            for i in range(args.jobs + 3):
                t0 = time.time()
                job = c.submit(script="#!/bin/sh\ndate +%s.%N\n")["job_id"]
                rec = c.wait(job, timeout=60, poll=0.01)
                if i < 3:
                    continue  # warm-up: first launches fill caches
                began = float(c.logs(job).strip())
                decided.append(rec["start_time"] - rec["submit_time"])
                running.append(began - t0)
                total.append(rec["end_time"] - t0)
    finally:
        live.stop()
    for label, xs in (
        ("controller decision (submit committed -> start committed)", decided),
        ("client submit -> first line of the job script", running),
        ("client submit -> end recorded", total),
    ):
        a = np.array(xs) * 1000
        print(f"{label}: p50 {np.percentile(a, 50):.1f} ms, p99 {np.percentile(a, 99):.1f} ms, max {a.max():.1f} ms")
    print(f"({len(running)} jobs)")


if __name__ == "__main__":
    main()
