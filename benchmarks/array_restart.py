"""What a big pending array costs at submission and at a restart (``recover``: the server answers nothing until it
ends): an in-process controller (dev executor, the example 4-node cluster), a held array of N tasks submitted, then
a second controller built on the same database, as `hal server` builds it (it recovers the array). Process CPU
seconds (a shared machine's load moves wall time 2x and more), wall seconds in brackets; medians of ``--repeat``.
QA: a 10,000-task array made a restart take about 35 s before the server answered (on a loaded machine).

``--src`` times another tree's controller (a worktree of an older commit), for before/after tables.
Usage: python benchmarks/array_restart.py [--sizes 1000,3000,10000] [--repeat 3] [--src OLD/src]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(n: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(CPU, wall) seconds of submitting a held array of ``n`` tasks, and of recovering it in a new controller."""
    from hal.api.server import ServerOptions, build
    from hal.controller.directives import build_request

    with tempfile.TemporaryDirectory(prefix="hal-array-") as tmp:
        opts = ServerOptions(home=Path(tmp) / "home", executor="dev", cluster=ROOT / "examples" / "local-cluster.toml")
        ctl, _app, store, executor = build(opts)
        try:
            req = build_request("#!/bin/sh\ntrue\n", {"array": f"0-{n - 1}", "hold": "1"}, {}, tmp, 0)
            c0, w0 = time.process_time(), time.perf_counter()
            ctl.submit(req, "al")
            submitted = (time.process_time() - c0, time.perf_counter() - w0)
        finally:
            ctl.board.stop()
            executor.shutdown()
            store.close()
        c0, w0 = time.process_time(), time.perf_counter()
        again, _app, store, executor = build(opts)  # the controller `hal server` builds: it recovers the array
        recovered = (time.process_time() - c0, time.perf_counter() - w0)
        try:
            assert len(again.live) == n, len(again.live)
        finally:
            again.board.stop()
            executor.shutdown()
            store.close()
    return submitted, recovered


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,3000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--src", default=None, help="the src folder of the tree to time (default: this one)")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(args.src).resolve() if args.src else ROOT / "src"))
    print("| tasks | submit CPU s (wall) | restart CPU s (wall) |")
    print("|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        runs = [one(n) for _ in range(args.repeat)]
        sub = (statistics.median(r[0][0] for r in runs), statistics.median(r[0][1] for r in runs))
        rec = (statistics.median(r[1][0] for r in runs), statistics.median(r[1][1] for r in runs))
        print(f"| {n:,} | {sub[0]:.2f} ({sub[1]:.2f}) | {rec[0]:.2f} ({rec[1]:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
