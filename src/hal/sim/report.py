"""Per-job output of a simulation: SWF with field 3 = simulated wait (the reference convention) and CSV."""

from __future__ import annotations

import csv
import math
from collections.abc import Collection
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hal.atomic_write import output_file
from hal.engine.plugins.topology import TopoIndex
from hal.executors.hostlist import compress
from hal.sim.accounting import STATUS
from hal.sim.metrics import TAU
from hal.sim.simulator import Outcome
from hal.sim.swf import SwfRecord, SwfTrace, format_record, header_key

TIMEOUT = STATUS.get("TIMEOUT", 0)  # SWF has no TIMEOUT: every end but completed and cancelled is 0 (failed)


def write_jobs_swf(
    path: str | Path, trace: SwfTrace, out: Outcome, note: str = "", timed_out: Collection[int] = ()
) -> int:
    """Writes the input records in submit order (as SWF orders them) with field 3 replaced by the simulated
    wait, under the input's header (partition names, start time), so the file replays like the input. A run the
    simulation changed (stretched by placement, or killed at a time limit: the stretch pushed it past its --time,
    or a --time-min cut) is written as it ran, a killed one as a TIMEOUT (status 0, as hal history --swf writes
    it), so the file agrees with the summary (QA: a stretch kill kept the trace's run and status). A job without
    field 5 is written with the processors it ran on (field 8's); start and end are rounded to whole seconds, not
    wait and run, so a rebuilt schedule holds no overlap the simulation did not have. ``timed_out``:
    the ids of jobs killed at a limit before the run (a partition's max_time, hal.sim.limits)."""
    records: dict[int, SwfRecord] = {}
    for r in trace.records:  # a repeated job id: the first record is the job replayed (hal/sim/workload.py)
        records.setdefault(r.job_id, r)
    done = np.flatnonzero(out.done)
    order = done[np.lexsort((out.job_id[done], out.submit[done]))]
    with output_file(path) as fh:  # whole or not at all: a full disk left a cut-off file (QA)
        for line in header_lines(trace):
            fh.write(line + "\n")
        fh.write(f"; MaxJobs: {len(order)}\n; MaxRecords: {len(order)}\n; MaxProcs: {out.capacity}\n")
        if note:
            fh.write(f"; Note: {note}\n")
        fh.write("; Note: field 3 is the simulated wait time\n")
        killed = _killed(out) | np.isin(out.job_id, np.fromiter(timed_out, dtype=np.int64))
        if out.base_run is not None or killed.any():
            fh.write("; Note: field 4 is the simulated run time; a job killed at its time limit has status 0\n")
        for i in order:
            rec = records[int(out.job_id[i])]
            values = list(rec.values())
            start = _second(out.start[i])  # instants rounded, not durations: jobs that abut still abut (QA)
            values[2] = start - _second(out.submit[i])
            values[3] = _second(out.start[i] + out.run[i]) - start  # a whole run stays the trace's
            if values[4] <= 0:  # no field 5: the replay ran it on field 8's processors, written as it ran
                values[4] = rec.req_procs
            values[5] = min(values[5], values[3])  # CPU time per processor: never more than the run it had
            if killed[i]:
                values[10] = TIMEOUT
            fh.write(format_record(values) + "\n")
    return len(order)


def _second(t: float) -> int:
    """An instant to the nearest second, halves up: round() takes 10.5 to 10 and 11.5 to 12, so a whole run started
    at x.5 s came out a second longer or shorter."""
    return math.floor(t + 0.5)


RESIZED = ("MaxProcs", "MaxJobs", "MaxRecords")  # written anew: the simulated machine and jobs


def header_lines(trace: SwfTrace) -> list[str]:
    """The input's header as it was written, continuation lines and all (QA: ';   http://b.example/x' came out
    as '; http: //b.example/x'), without the sizes written anew and with Computer saying the run was simulated;
    a trace built in code (no lines) writes its header fields."""
    computer = f"; Computer: {trace.header.get('Computer', 'a trace')} (simulated by HAL)"
    lines = trace.comments or [f"; {k}: {v}" for k, v in trace.header.items()]
    kept = [line for line in lines if header_key(line) not in RESIZED]
    written = {header_key(line) for line in kept}  # a field read below the first job: kept too, at the end
    kept += [f"; {k}: {v}" for k, v in trace.header.items() if k not in written and k not in RESIZED]
    if "Computer" not in trace.header:
        return [computer, *kept]
    first = next(i for i, line in enumerate(kept) if header_key(line) == "Computer")
    return [*kept[:first], computer, *kept[first + 1 :]]


def _killed(out: Outcome) -> npt.NDArray[np.bool_]:
    """Jobs the simulation killed at a time limit (TIMEOUT): the stretch pushed them past it, or a --time-min cut."""
    killed = np.zeros(len(out.job_id), dtype=bool)
    for mask in (out.stretch_killed, out.cut_killed):
        if mask is not None:
            killed |= mask
    return killed


def _seconds(value: float) -> str:
    """Whole seconds as integers, fractions (from averaged predictions) kept, so wait = start - submit holds."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}"


def write_jobs_csv(
    path: str | Path,
    out: Outcome,
    trace: SwfTrace | None = None,
    names: tuple[str, ...] = (),
    index: TopoIndex | None = None,
) -> int:
    """One row per started job. ``procs`` is the trace's processors (``trace``); on a cluster file's nodes
    (``names``) a row adds the CPUs (or GPUs) allocated, the nodes as a Slurm host list and, on a tree
    (``index``), the leaf domains and highest level spanned, so placement can be checked by hand; a stretched
    run adds the trace's run time."""
    done = out.done
    wait = out.start - out.submit
    base = out.run if out.base_run is None else out.base_run
    bsld = np.where(done, np.maximum(1.0, (np.nan_to_num(wait) + out.run) / np.maximum(base, TAU)), np.nan)
    asked = trace_procs(trace) if trace is not None else {}
    header = ["job_id", "submit", "start", "end", "wait", "run", "procs", "estimate", "backfilled", "bsld"]
    header += ["allocated", "nodes", "node_count"] if names else []
    header += ["leaves", "level"] if names and index is not None else []
    header += ["trace_run"] if out.base_run is not None else []
    with output_file(path, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i in range(len(out.job_id)):
            if not done[i]:
                continue
            job = int(out.job_id[i])
            row = [job, *(_seconds(v) for v in (out.submit[i], out.start[i], out.end[i], wait[i], out.run[i]))]
            row += [asked.get(job, int(out.procs[i])), _seconds(out.estimate[i]), int(out.backfilled[i])]
            row.append(f"{bsld[i]:.4f}")
            if names:
                nodes = out.nodes[i] if i < len(out.nodes) else ()
                row += [int(out.procs[i]), compress(names[n] for n in nodes), len(nodes)]
                if index is not None:
                    row += list(index.span(np.asarray(nodes, dtype=np.intp))) if nodes else [0, 0]
            if out.base_run is not None:
                row.append(_seconds(out.base_run[i]))
            writer.writerow(row)
    return int(done.sum())


def trace_procs(trace: SwfTrace) -> dict[int, int]:
    """Each job's processors as its record gives them (field 5, else the request, field 8): what a whole-node
    or GPU replay reshaped into nodes."""
    procs: dict[int, int] = {}
    for r in trace.records:
        procs.setdefault(r.job_id, r.procs if r.procs > 0 else r.req_procs)
    return procs
