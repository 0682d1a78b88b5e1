"""What `hal simulate --setup rlscheduler` says about reading a trace beside the normal replay: what RLScheduler's
loader does differently (its rules are kept)."""

from __future__ import annotations

from collections.abc import Sequence

from hal.sim.swf import SwfRecord


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
