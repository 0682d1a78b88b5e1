"""How job listings scale with the pending queue on a real server: plain listings, one job, a forecast.

A blocker holds the whole (small) cluster, then arrays of `sleep 600` fill the queue to each size; for each
size, the median of several calls of: the pending listing of every user (what `hal queue --all` asks), the
first page of one job (`limit=1`), one pending job (what `hal wait` polls), the same with its forecast start
(`hal show`; first call after a change, then a repeat that the forecast cache answers), and cancelling 200
jobs in one bulk request. Times are the server's answers seen by an SDK client (no CLI start-up).
Usage: python benchmarks/live_listing.py [--sizes 250,1000,2000,4000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.livekit import LiveServer

CLUSTER = 'name = "eight"\n[[nodes]]\nprefix = "n"\ncount = 8\ncpus = 2\nmem = "1G"\n'


def timed(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="250,1000,2000,4000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hal-listing-"))
    (tmp / "c.toml").write_text(CLUSTER)
    live = LiveServer(tmp, cluster=tmp / "c.toml")
    live.start()
    rows = []
    try:
        with live.client() as c:
            c.submit(wrap="sleep 3000", options={"nodes": 8, "exclusive": True, "time": "60"})
            pending = 0
            for size in (int(s) for s in args.sizes.split(",")):
                while pending < size:
                    n = min(500, size - pending)
                    c.submit(wrap="sleep 600", options={"array": f"0-{n - 1}", "time": "20"})
                    pending += n
                time.sleep(1.0)
                one = c.list(state="PENDING", limit=1)[0]["job_id"]
                listing = timed(lambda: c.list(state="PENDING", all_users=True), args.repeat)
                first = timed(lambda: c.list(state="PENDING", limit=1), args.repeat)
                poll = timed(lambda j=one: c.get(j), args.repeat)
                c.submit(wrap="true", options={"hold": True})  # a change: the next forecast is made afresh
                fresh = timed(lambda j=one: c.get(j, start=True), 1)
                cached = timed(lambda j=one: c.get(j, start=True), args.repeat)
                doomed = [str(j["job_id"]) for j in c.list(state="PENDING", limit=200)]
                t0 = time.perf_counter()
                c.cancel_many(doomed)
                bulk = time.perf_counter() - t0
                pending -= len(doomed)
                load = os.getloadavg()[0]
                rows.append((size, listing, first, poll, fresh, cached, bulk, load))
                print(f"{size}: {rows[-1]}", flush=True)
    finally:
        live.stop()
    print(
        "\n| pending | all pending, all users | limit=1 | one job (wait poll) | with forecast, first | "
        "with forecast, cached | bulk cancel of 200 | load |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, listing, first, poll, fresh, cached, bulk, load in rows:
        print(
            f"| {size:,} | {listing * 1000:.0f} ms | {first * 1000:.1f} ms | {poll * 1000:.1f} ms | "
            f"{fresh * 1000:.0f} ms | {cached * 1000:.1f} ms | {bulk * 1000:.0f} ms | {load:.1f} |"
        )


if __name__ == "__main__":
    main()
