"""`hal queue --start` with thousands of pending jobs on a real server, as QA measured it, and the stop after.

A `hal server` on the example 4-node cluster gets the demo's kind of load (a 2-node job, an array behind a
%limit, a 6-CPU job; all `sleep 900`, so nothing ends meanwhile), then one array of N tasks held by
`--begin now+3600` (`--wrap true`, no --time). Measured, each with the real CLI (a new process, as a user
runs it): `hal queue --start -j ARRAY` right after the submission (no forecast covers the tasks yet), the
same with --json at once (how many tasks have a START_TIME) and 10 s later, and `hal show` of the array's
first task; the server's CPU seconds over the first call; then, as QA did, a `hal queue --start` that needs a
new forecast (a job submitted first) is started, the array cancelled 1 s later while that forecast runs, and
SIGTERM sent at once: the time the cancel and the stop take.
--errors N starts the server with N recorded prediction errors (its saved forecaster state, ratios 0.5 to
2.5 for hour-long predictions), so it forecasts with its 10-member ensemble as a server that has seen jobs
end does; without, it plans on the requests (no errors yet).
Usage: python benchmarks/forecast_live.py [--sizes 5000] [--port 0] [--errors 0]
(set PYTHONPATH to another tree's src/ to measure that tree's server and CLI)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.livekit import LiveServer


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_cli(live: LiveServer, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    res = live.cli(*args)
    return time.perf_counter() - t0, res


def with_start(res: subprocess.CompletedProcess[str], tasks: set[int]) -> int:
    """How many of ``tasks`` a `hal queue --start --json` answer gave a START_TIME (-1: the command failed)."""
    if res.returncode != 0:
        return -1
    jobs = json.loads(res.stdout)["jobs"]
    return sum(1 for j in jobs if j["job_id"] in tasks and j.get("predicted_start"))


def one(size: int, port: int, errors: int) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="hal-forecast-live-"))
    live = LiveServer(tmp)
    if port:
        live.port, live.url = port, f"http://127.0.0.1:{port}"
    if errors:  # a server that has seen jobs end: its saved forecaster state, so it forecasts with its ensemble
        live.home.mkdir(parents=True, exist_ok=True)
        ratios = [[5, 0.5 + 2.0 * i / errors] for i in range(errors)]
        state = {"ratios": ratios, "users": {}, "scores": [], "told": []}
        (live.home / "start-forecasts.json").write_text(json.dumps(state), encoding="utf-8")
    live.start()
    assert live.proc is not None
    pid = live.proc.pid
    try:
        live.cli("submit", "--wrap", "sleep 900", "-J", "long", "-N", "2", check=True)
        live.cli("submit", "--array", "0-7%4", "--wrap", "sleep 900", "-J", "sweep", check=True)
        live.cli("submit", "--wrap", "sleep 900", "-J", "wide", "-n", "6", "--time", "20:00", check=True)
        args = ["submit", "--parsable", "--array", f"0-{size - 1}", "--begin", "now+3600", "-J", "big"]
        big = live.cli(*args, "--wrap", "true", check=True).stdout.strip()
        cpu0 = cpu_seconds(pid)
        first, res = timed_cli(live, "queue", "--start", "-j", big)
        cpu = cpu_seconds(pid) - cpu0
        err = res.stderr.strip().splitlines()[-1] if res.returncode else ""
        listed, res = timed_cli(live, "queue", "--start", "-j", big, "--json")
        tasks = {j["job_id"] for j in json.loads(res.stdout)["jobs"]} if res.returncode == 0 else set()
        covered_first = with_start(res, tasks)
        time.sleep(10)
        again, res = timed_cli(live, "queue", "--start", "-j", big, "--json")
        covered_again = with_start(res, tasks)
        show, res = timed_cli(live, "show", f"{big}_0")
        planned = "planned start" in res.stdout
        live.cli("submit", "--wrap", "true", "-H", check=True)  # a change: the next listing needs a new forecast
        asking = threading.Thread(target=live.cli, args=("queue", "--start"))  # a forecast of the whole queue
        asking.start()
        time.sleep(1.0)
        after_cancel, _ = timed_cli(live, "cancel", big)  # QA: cancelled while a forecast was running
        t0 = time.perf_counter()
        live.proc.terminate()
        try:
            live.proc.wait(120)
            stop = time.perf_counter() - t0
        except subprocess.TimeoutExpired:  # killed by live.stop() below
            stop = math.inf
        asking.join(120)
    finally:
        live.stop()
    return {
        "first": first, "cpu": cpu, "listed": listed, "covered_first": covered_first, "error": err,
        "again": again, "covered_again": covered_again, "show": show, "planned": planned,
        "after_cancel": after_cancel, "stop": "> 120" if math.isinf(stop) else f"{stop:.1f}",
        "load": os.getloadavg()[0],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="5000")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--errors", type=int, default=0)
    a = ap.parse_args()
    print(
        "| array tasks | first `queue --start` (s) | server CPU s | then `--json` (s) | tasks with a start "
        "| 10 s later (s) | with a start "
        "| `show` task 0 (s) | planned start shown | `cancel` during a forecast (s) | SIGTERM to exit (s) | load |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for size in (int(s) for s in a.sizes.split(",")):
        r = one(size, a.port, a.errors)
        note = f" ({r['error']})" if r["error"] else ""
        print(
            f"| {size:,} | {r['first']:.1f}{note} | {r['cpu']:.1f} | {r['listed']:.1f} | {r['covered_first']} "
            f"| {r['again']:.1f} "
            f"| {r['covered_again']} | {r['show']:.1f} | {'yes' if r['planned'] else 'no'} | {r['after_cancel']:.1f} "
            f"| {r['stop']} | {r['load']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
