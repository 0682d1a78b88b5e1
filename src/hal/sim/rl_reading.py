"""How `hal simulate --setup rlscheduler` reads a trace beside the normal replay: what RLScheduler's loader does
differently is said (its rules are kept), and the file is read once however often the setup loads it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from stat import S_ISREG

from hal.sim.swf import SwfRecord, SwfTrace, read_swf


def differences(records: Sequence[SwfRecord]) -> tuple[str, ...]:
    """What RLScheduler's loader does with these records that hal simulate's replay does not (QA: a repeated job
    id ran every time there, once in hal simulate, without a word)."""
    seen: set[int] = set()
    repeated: list[SwfRecord] = []
    for rec in records:
        if rec.job_id in seen:
            repeated.append(rec)
        seen.add(rec.job_id)
    unknown = sum(1 for r in records if r.run < 0)
    zero = sum(1 for r in records if r.run == 0)
    notes = []
    if repeated:
        notes.append(
            f"{len(repeated):,} record(s) repeat an earlier job id (the first: line {repeated[0].line}, job "
            f"{repeated[0].job_id}): RLScheduler's loader runs every one; hal simulate replays only the first"
        )
    if unknown:
        notes.append(
            f"{unknown:,} job(s) have no run time (-1): RLScheduler runs each for 10 s; hal simulate skips them"
        )
    if zero:
        notes.append(f"{zero:,} job(s) ran 0 s: RLScheduler's loader drops them; hal simulate replays them")
    return tuple(notes)


_READ: dict[str, tuple[tuple[object, ...], SwfTrace]] = {}
UNREAD = ("unreadable",)


def read_once(path: str | Path) -> SwfTrace:
    """``path`` read, or the trace already read from it while the file is unchanged; a pipe or a device is known by
    its name (hal simulate lists a trace's problems before the setup loads it, and a pipe reads once)."""
    key = "/dev/stdin" if str(path) == "-" else str(path)  # as read_swf reads `-`
    try:
        st = os.stat(key)
        identity: tuple[object, ...] = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) if S_ISREG(st.st_mode) else ()
    except OSError:
        identity = UNREAD  # read_swf says why, in one line
    kept = _READ.get(key)
    if kept is not None and kept[0] == identity and identity != UNREAD:
        return kept[1]
    trace = read_swf(path)
    _READ.clear()  # one trace kept: a process loads one, or the same one again
    _READ[key] = (identity, trace)
    return trace
