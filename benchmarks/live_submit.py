"""Sustained submission rate of the live controller, through REST (SDK clients) and through the CLI.

Jobs are submitted with --begin an hour ahead, so the figure is the controller accepting, validating and
committing jobs (as sbatch -> slurmctld), not the machine running them. Medians of several runs.
Usage: python benchmarks/live_submit.py [--jobs 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.livekit import HAL, LiveServer


def rest_rate(live: LiveServer, jobs: int, threads: int) -> float:
    clients = [live.client() for _ in range(threads)]
    local = threading.local()

    def one(i: int) -> None:
        if not hasattr(local, "c"):
            local.c = clients[i % threads]
        local.c.submit(wrap="true", options={"begin": "now+3600"})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(jobs)))
    rate = jobs / (time.perf_counter() - t0)
    for c in clients:
        c.close()
    return rate


def cli_rate(live: LiveServer, jobs: int, parallel: int) -> float:
    def one(_: int) -> None:
        subprocess.run([*HAL, "submit", "--wrap", "true", "--begin", "now+3600", "--parsable"], env=live.env,
                       cwd=live.work, check=True, capture_output=True)  # fmt: skip

    t0 = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, range(jobs)))
    return jobs / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--cli-jobs", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    for threads in (1, 4, 16):
        rates = []
        for _ in range(args.runs):  # a fresh server per run: each starts from an empty queue
            live = LiveServer(Path(tempfile.mkdtemp(prefix="hal-bench-")))
            live.start()
            try:
                rates.append(rest_rate(live, args.jobs, threads))
            finally:
                live.stop()
        print(f"REST, {threads:2d} client thread(s): median {statistics.median(rates):6.0f} jobs/s "
              f"(runs: {', '.join(f'{r:.0f}' for r in rates)})", flush=True)  # fmt: skip
    live = LiveServer(Path(tempfile.mkdtemp(prefix="hal-bench-")))
    live.start()
    try:
        for parallel in (1, 4):
            rates = [cli_rate(live, args.cli_jobs, parallel) for _ in range(args.runs)]
            print(f"CLI, {parallel} at a time: median {statistics.median(rates):6.1f} jobs/s "
                  f"(runs: {', '.join(f'{r:.1f}' for r in rates)})", flush=True)  # fmt: skip
    finally:
        live.stop()


if __name__ == "__main__":
    main()
