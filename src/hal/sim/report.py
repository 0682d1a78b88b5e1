"""Per-job output of a simulation: SWF with field 3 = simulated wait (the reference convention) and CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from hal.sim.metrics import bounded_slowdown
from hal.sim.simulator import Outcome
from hal.sim.swf import SwfRecord, SwfTrace, format_record


def write_jobs_swf(path: str | Path, trace: SwfTrace, out: Outcome, note: str = "") -> int:
    """Writes the input records in submit order (as SWF orders them) with field 3 replaced by the simulated
    wait, under the input's header (partition names, start time), so the file replays like the input."""
    records: dict[int, SwfRecord] = {}
    for r in trace.records:  # a repeated job id: the first record is the job replayed (hal/sim/workload.py)
        records.setdefault(r.job_id, r)
    done = np.flatnonzero(out.done)
    order = done[np.lexsort((out.job_id[done], out.submit[done]))]
    header = {k: v for k, v in trace.header.items() if k not in ("MaxProcs", "MaxJobs", "MaxRecords")}
    header["Computer"] = f"{header.get('Computer', 'a trace')} (simulated by HAL)"
    with Path(path).open("w", encoding="utf-8") as fh:
        for key, value in header.items():
            fh.write(f"; {key}: {value}\n")
        fh.write(f"; MaxJobs: {len(order)}\n; MaxRecords: {len(order)}\n; MaxProcs: {out.capacity}\n")
        if note:
            fh.write(f"; Note: {note}\n")
        fh.write("; Note: field 3 is the simulated wait time\n")
        for i in order:
            rec = records[int(out.job_id[i])]
            values = list(rec.values())
            values[2] = round(out.start[i] - out.submit[i])
            fh.write(format_record(values) + "\n")
    return len(order)


def _seconds(value: float) -> str:
    """Whole seconds as integers, fractions (from averaged predictions) kept, so wait = start - submit holds."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}"


def write_jobs_csv(path: str | Path, out: Outcome) -> int:
    done = out.done
    wait = out.start - out.submit
    bsld = np.where(done, bounded_slowdown(np.nan_to_num(wait), out.run), np.nan)
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["job_id", "submit", "start", "end", "wait", "run", "procs", "estimate", "backfilled", "bsld"])
        for i in range(len(out.job_id)):
            if not done[i]:
                continue
            writer.writerow(
                [
                    int(out.job_id[i]),
                    _seconds(out.submit[i]),
                    _seconds(out.start[i]),
                    _seconds(out.end[i]),
                    _seconds(wait[i]),
                    _seconds(out.run[i]),
                    int(out.procs[i]),
                    _seconds(out.estimate[i]),
                    int(out.backfilled[i]),
                    f"{bsld[i]:.4f}",
                ]
            )
    return int(done.sum())
