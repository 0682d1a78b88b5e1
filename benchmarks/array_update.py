"""What an array-wide `hal update`, `hal hold`, `hal release` and `hal cancel` cost the controller (under its lock,
so the whole server waits that long): an in-process controller (dev executor, 16 nodes), a fresh array of N tasks
``0-(N-1)%5`` submitted per run (held with -H, except for hold), the call timed: process CPU seconds (a shared
machine's load moves wall time 2x and more), wall seconds in brackets; medians of ``--repeat``.
QA: an update of Nice on 3,000 tasks took 8 s and 10,000 tasks 69 s (the square of the size).

``--src`` times another tree's controller (a worktree of an older commit), for before/after tables.
Usage: python benchmarks/array_update.py [--sizes 1000,3000,10000] [--repeat 3] [--src OLD/src]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OPS = ("update Nice=5", "update ArrayTaskThrottle=50", "hold", "release", "cancel")


def one(n: int, op: str) -> tuple[float, float]:
    """CPU and wall seconds the controller takes for ``op`` on a fresh array of ``n`` tasks."""
    from hal.api.server import ServerOptions, build
    from hal.controller.auth import Identity
    from hal.controller.directives import build_request
    from hal.controller.holds import set_hold
    from hal.controller.update import update

    admin = Identity("root", admin=True)
    with tempfile.TemporaryDirectory(prefix="hal-array-") as tmp:
        cluster = Path(tmp) / "c.toml"
        cluster.write_text('name = "t"\n[[nodes]]\nnames = "node[01-16]"\ncpus = 2\nmem = "1G"\n')
        ctl, _app, store, executor = build(ServerOptions(home=Path(tmp) / "home", executor="dev", cluster=cluster))
        try:
            options = {"array": f"0-{n - 1}%5", **({} if op == "hold" else {"hold": "1"})}
            req = build_request("#!/bin/sh\ntrue\n", options, {}, tmp, 0)
            ref = str(ctl.submit(req, "root").array_job_id)
            calls: dict[str, Any] = {
                "update Nice=5": lambda: update(ctl, ref, admin, {"Nice": "5"}),
                "update ArrayTaskThrottle=50": lambda: update(ctl, ref, admin, {"ArrayTaskThrottle": "50"}),
                "hold": lambda: set_hold(ctl, ref, admin, True),
                "release": lambda: set_hold(ctl, ref, admin, False),
                "cancel": lambda: ctl.cancel(ref, admin),
            }
            c0, t0 = time.process_time(), time.perf_counter()
            done = calls[op]()
            spent = time.process_time() - c0, time.perf_counter() - t0
            assert len(done) == n, (op, len(done))
            return spent
        finally:
            executor.shutdown()
            store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,3000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ops", default=",".join(OPS), help=f"comma-separated, of: {', '.join(OPS)}")
    ap.add_argument("--src", default=str(ROOT / "src"), help="the tree whose controller to time")
    a = ap.parse_args()
    src = Path(a.src).resolve()
    if not (src / "hal" / "__init__.py").is_file():  # else the installed hal would be timed, unsaid
        ap.error(f"--src {a.src}: no hal package there (give a tree's src folder, e.g. /tmp/wt/src)")
    sys.path.insert(0, str(src))
    ops = [o.strip() for o in a.ops.split(",")]
    if unknown := [o for o in ops if o not in OPS]:
        ap.error(f"unknown --ops {', '.join(unknown)}")
    try:
        sizes = [int(x) for x in a.sizes.split(",")]
    except ValueError:
        ap.error(f"--sizes {a.sizes!r}: task counts separated by commas, e.g. 1000,3000")
    if min(sizes) < 1 or max(sizes) > 10000 or a.repeat < 1:
        ap.error("--sizes between 1 and 10000 (MaxArraySize), --repeat at least 1")
    print(f"| operation | {' | '.join(f'{s:,} tasks: CPU s (wall)' for s in sizes)} |")
    print(f"|---|{'---:|' * len(sizes)}")
    for op in ops:
        cells = []
        for size in sizes:
            runs = [one(size, op) for _ in range(a.repeat)]
            cpu, wall = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            cells.append(f"{cpu:.2f} ({wall:.2f})")
        print(f"| {op} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
