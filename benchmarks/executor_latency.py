"""What the local executor adds per job: launch-to-start and launch-to-end latency of a trivial job, throughput of
many trivial jobs, and CPU spent per job, each against a bare fork+exec of the same command in the same run.

    .venv/bin/python benchmarks/executor_latency.py [--jobs 40] [--burst 200] [--repeats 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from hal.executors.api import ExecEventKind, LaunchSpec, NodeShare
from hal.executors.local import LocalExecutor

CPUS = tuple(sorted(os.sched_getaffinity(0)))


def spec(job_id: int, workdir: Path) -> LaunchSpec:
    return LaunchSpec(job_id, "trivial", "bench", "true\n", workdir, "/dev/null", "", (NodeShare("n0", CPUS, 256),))


def bare(n: int) -> list[float]:
    """The floor: fork+exec of /bin/sh running `true`, as the job's own process would be."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.Popen(["/bin/sh", "-c", "true"]).wait()
        out.append(time.perf_counter() - t0)
    return out


def sequential(ex: LocalExecutor, workdir: Path, n: int, first_id: int) -> tuple[list[float], list[float]]:
    """One job at a time on an idle executor: wall seconds from launch() to its STARTED and ENDED events."""
    starts, ends = [], []
    for job_id in range(first_id, first_id + n):
        t0 = time.time()
        ex.launch(spec(job_id, workdir))
        started = None
        while True:
            events = ex.events()
            for e in events:
                if e.kind is ExecEventKind.STARTED:
                    started = e.time - t0
                elif e.kind is ExecEventKind.ENDED:
                    starts.append(started if started is not None else (e.start_time or e.time) - t0)
                    ends.append(time.time() - t0)
            if len(ends) == job_id - first_id + 1:
                break
            time.sleep(0.001)
    return starts, ends


def burst(ex: LocalExecutor, workdir: Path, n: int, first_id: int) -> float:
    """n trivial jobs launched at once; seconds until every ENDED event has been read."""
    t0 = time.perf_counter()
    for job_id in range(first_id, first_id + n):
        ex.launch(spec(job_id, workdir))
    done = 0
    while done < n:
        done += sum(1 for e in ex.events() if e.kind is ExecEventKind.ENDED)
        time.sleep(0.005)
    return time.perf_counter() - t0


def children_cpu(ex: LocalExecutor) -> float:
    """CPU seconds of reaped children: ours (supervisors started the slow way) and the launcher's (the forked ones)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    launcher = ex._launcher.process if ex._launcher is not None else None
    if launcher is not None and launcher.poll() is None:
        fields = Path(f"/proc/{launcher.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=40, help="sequential trivial jobs per repeat")
    ap.add_argument("--burst", type=int, default=200, help="trivial jobs launched at once per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="write the Markdown table here too")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ex = LocalExecutor(workdir / "spool", kill_wait=1.0, liveness_interval=0.5)
        next_id = 1
        for r in range(args.repeats):
            floor = statistics.median(bare(args.jobs))
            cold = sequential(ex, workdir, 1, next_id)[1][0]  # starts the launcher: once per controller start
            next_id += 1
            time.sleep(0.5)  # the launcher is listening before we count
            cpu0, self0 = children_cpu(ex), time.process_time()
            starts, ends = sequential(ex, workdir, args.jobs, next_id)
            time.sleep(0.6)  # the launcher reaps its children in its next pass
            cpu1, self1 = children_cpu(ex), time.process_time()
            next_id += args.jobs
            seconds = burst(ex, workdir, args.burst, next_id)
            next_id += args.burst
            ex.shutdown()
            ex = LocalExecutor(workdir / "spool", kill_wait=1.0, liveness_interval=0.5)
            cpu_per_job = (cpu1 - cpu0) / args.jobs
            executor_cpu = (self1 - self0) / args.jobs
            rows.append(
                dict(
                    floor_ms=floor * 1e3,
                    cold_ms=cold * 1e3,
                    start_p50_ms=pct(starts, 0.5) * 1e3,
                    start_p99_ms=pct(starts, 0.99) * 1e3,
                    end_p50_ms=pct(ends, 0.5) * 1e3,
                    end_p99_ms=pct(ends, 0.99) * 1e3,
                    cpu_ms_per_job=cpu_per_job * 1e3,
                    executor_cpu_ms_per_job=executor_cpu * 1e3,
                    burst_jobs_per_s=args.burst / seconds,
                )
            )
            print(f"repeat {r + 1}: " + ", ".join(f"{k}={v:.1f}" for k, v in rows[-1].items()), flush=True)
    med = {k: statistics.median(row[k] for row in rows) for k in rows[0]}
    table = [
        "| measure (median of repeats) | value | vs bare fork+exec |",
        "|---|---:|---:|",
        f"| bare fork+exec of `sh -c true` | {med['floor_ms']:.1f} ms | 1.0x |",
        f"| first launch -> ENDED (starts the launcher) | {med['cold_ms']:.1f} ms | "
        f"{med['cold_ms'] / med['floor_ms']:.1f}x |",
        f"| launch -> STARTED, p50 | {med['start_p50_ms']:.1f} ms | {med['start_p50_ms'] / med['floor_ms']:.1f}x |",
        f"| launch -> STARTED, p99 | {med['start_p99_ms']:.1f} ms | {med['start_p99_ms'] / med['floor_ms']:.1f}x |",
        f"| launch -> ENDED read, p50 | {med['end_p50_ms']:.1f} ms | {med['end_p50_ms'] / med['floor_ms']:.1f}x |",
        f"| launch -> ENDED read, p99 | {med['end_p99_ms']:.1f} ms | {med['end_p99_ms'] / med['floor_ms']:.1f}x |",
        f"| CPU per trivial job: supervisor + job | {med['cpu_ms_per_job']:.1f} ms | |",
        f"| CPU per trivial job: the executor (launch + events) | {med['executor_cpu_ms_per_job']:.1f} ms | |",
        f"| burst of {args.burst} trivial jobs | {med['burst_jobs_per_s']:.0f} jobs/s | |",
        "",
        f"10,000 trivial jobs at the burst rate: about {10000 / med['burst_jobs_per_s'] / 60:.1f} min.",
    ]
    text = "\n".join(table)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
