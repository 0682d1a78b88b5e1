"""How long one start-time forecast of the whole queue takes as the pending queue grows (`hal queue --start`).

An in-process controller on the example 4-node cluster (examples/local-cluster.toml, the server's default
profile: multifactor, EASY, topology placement) with the demo's kind of load: a 2-node job running, a few
jobs queued behind it, then one array of N tasks (`--wrap true`, no --time: planned on the default hour) held
by `--begin now+3600`, as in the QA report. The executor launches nothing, so the queue stays as submitted.
For each size, medians of ``--repeat`` forecasts of every pending job, made as the StartBoard makes them
(``behind_limits`` on a clone, then ``Forecaster.starts``), with 0 learned errors (point and upper runs)
and with 60 (the ensemble of 10 members): with the server's forecaster (its work budget and small-sample
p90 rule; how many members it kept, the horizon it reached, how many jobs got a forecast) and, with
``--unbounded``, without a budget (the forecast as it was: 150 s at 5,000 jobs). ``--board`` also times
``StartBoard.estimates`` as a listing calls it with no forecast made yet (it waits WAIT seconds at most),
and a repeat 5 s later. ``--profile`` prints cProfile's top functions for the largest size (unbounded).
Usage: python benchmarks/forecast_scale.py [--sizes 1000,2000,5000] [--repeat 3] [--unbounded] [--board]
[--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hal.controller import startboard
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.startboard import StartBoard, behind_limits
from hal.controller.store import Store, sqlite_url
from hal.engine import forecast as forecast_module
from hal.engine.forecast import Forecaster
from hal.engine.profile import Profile
from hal.executors.api import ExecEvent

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "examples" / "local-cluster.toml"


class Idle:
    """An executor that launches nothing and reports nothing: jobs the controller starts stay running."""

    name = "idle"

    def launch(self, spec: Any) -> None:
        return None

    def cancel(self, job_id: int, grace: float = 10.0) -> None:
        return None

    def signal(self, job_id: int, sig: int, whom: str) -> bool:
        return True

    def retime(self, job_id: int, limit: float | None) -> bool:
        return True

    def events(self) -> list[ExecEvent]:
        return []

    def reattach(self, job_ids: list[int]) -> dict[int, ExecEvent | None]:
        return {}

    def shutdown(self) -> None:
        return None


def controller(tmp: Path, size: int) -> Controller:
    """The demo's load plus an array of ``size`` tasks held by --begin now+3600, one cycle run."""
    machine = Machine.load(CLUSTER)
    profile = Profile.server_default(machine.cluster.topology is not None)
    ctl = Controller(Store(sqlite_url(tmp / f"hal-{size}.db")), machine, Idle(), profile)
    recover(ctl)
    now = ctl.clock()

    def submit(opts: dict[str, str], script: str = "#!/bin/sh\ntrue\n") -> list[int]:
        return ctl.submit(build_request(script, opts, {}, str(tmp), now), "alice").job_ids

    submit({"nodes": "2", "time": "20:00"})  # the demo's "long"
    submit({"array": "0-7%4", "time": "5:00"})  # "sweep"
    submit({"ntasks": "6", "time": "2:00"})  # "wide"
    ctl.run_cycle()
    submit({"array": f"0-{size - 1}", "begin": "now+3600", "job-name": "big"})
    ctl.run_cycle()
    return ctl


def forecaster(learned: int, bounded: bool) -> Forecaster:
    """The server's forecaster (``bounded``), or one without its work budget and small-sample rule. On a tree
    from before them (PYTHONPATH=OLD/src), both are the old server's."""
    kept = getattr(startboard, "WORK", None) is not None and bounded
    f = StartBoard(members=10).forecaster if kept else Forecaster(members=10)
    for i in range(learned):
        f.observe(100.0, 50.0 + 2.0 * i, f"u{i % 3}")
    return f


def forecast(ctl: Controller, learned: int, bounded: bool) -> tuple[float, int, float, int]:
    """Seconds for one forecast of every pending job, as the StartBoard makes it; members run, horizon (h
    ahead, inf: whole), jobs with a forecast."""
    f = forecaster(learned, bounded)
    with ctl.lock:
        snap, now = ctl.sched.clone(history=False), ctl.clock()
        behind_limits(snap, ctl, now)
    calls = [0]
    real = forecast_module.what_if

    def counted(*args: Any, **kw: Any) -> dict[int, float]:
        calls[0] += 1
        return real(*args, **kw)

    forecast_module.what_if = counted
    try:
        t0 = time.perf_counter()
        got = f.starts(snap, now)
        spent = time.perf_counter() - t0
    finally:
        forecast_module.what_if = real
    reach = getattr(f, "reach", math.inf)
    return spent, calls[0], (reach - now) / 3600.0, sum(1 for e in got.values() if math.isfinite(e.p50))


def board_call(ctl: Controller) -> tuple[float, int, float, int]:
    """A listing's wait for ``StartBoard.estimates`` with no forecast made yet, then a repeat 5 s later: seconds
    and jobs with a forecast, each."""
    board = StartBoard(members=10)
    for i in range(60):
        board.forecaster.observe(100.0, 50.0 + 2.0 * i, f"u{i % 3}")
    pending = {j for j, lv in ctl.live.items() if lv.state == "PENDING"}
    t0 = time.perf_counter()
    got = board.estimates(ctl, pending)
    first, n_first = time.perf_counter() - t0, len(got)
    time.sleep(5.0)
    t0 = time.perf_counter()
    got = board.estimates(ctl, pending)
    again = time.perf_counter() - t0
    stop = getattr(board, "stop", None)  # none on the old board (its first call blocked until done)
    if stop is not None:
        stop()
    return first, n_first, again, len(got)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,5000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--unbounded", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--board", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hal-forecast-scale-"))
    sizes = [int(s) for s in a.sizes.split(",")]
    head = "| pending | 0 errors (s) | 60 errors (s) | members | horizon h | jobs forecast |"
    rule = "|---:|---:|---:|---:|---:|---:|"
    if a.unbounded:
        head, rule = head + " unbounded, 0 errors (s) | unbounded, 60 errors (s) |", rule + "---:|---:|"
    if a.board:
        head, rule = head + " board, first call (s) | jobs | 5 s later (s) | jobs |", rule + "---:|---:|---:|---:|"
    print(head + "\n" + rule)
    for size in sizes:
        ctl = controller(tmp, size)
        pending = sum(1 for lv in ctl.live.values() if lv.state == "PENDING")
        cold = statistics.median(forecast(ctl, 0, True)[0] for _ in range(a.repeat))
        warm = [forecast(ctl, 60, True) for _ in range(a.repeat)]
        spent, members, horizon, jobs = sorted(warm)[len(warm) // 2]
        row = f"| {pending:,} | {cold:.2f} | {spent:.2f} | {members} | {horizon:.1f} | {jobs:,} |"
        if a.unbounded:
            old0 = statistics.median(forecast(ctl, 0, False)[0] for _ in range(a.repeat))
            old60 = statistics.median(forecast(ctl, 60, False)[0] for _ in range(a.repeat))
            row += f" {old0:.2f} | {old60:.2f} |"
        if a.board:
            first, n_first, again, n_again = board_call(ctl)
            row += f" {first:.2f} | {n_first:,} | {again:.3f} | {n_again:,} |"
        print(row, flush=True)
        if a.profile and size == sizes[-1]:
            prof = cProfile.Profile()
            prof.enable()
            forecast(ctl, 60, False)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
            pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        ctl.store.close()


if __name__ == "__main__":
    main()
