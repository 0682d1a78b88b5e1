"""An array task changed on its own (`hal update 12_7 ...`, `hal hold 12_7`, `hal release 12_7`) leaves its array's
record, as Slurm splits such a task into a job record of its own: squeue then lists it on its own line (12_7) while
the rest stays 12_[1-6,8-99]. HAL folded it back into its array's line, its own limit or hold hidden there.

The mark is kept in the task's stored request (so a restart keeps it; a release that makes the task look like its
siblings again does not undo it, as in Slurm). A change to the whole array (`hal update 12`) splits nothing."""

from __future__ import annotations

import re
from typing import Any

KEY = "_split"  # in a stored request, beside _deps, _shared and _released: never part of the JobRequest
MARK = re.compile(r'"_split":\s*true')  # stored compact, or with spaces (holds.py); a quote in a string is escaped


def on_its_own(ref: str, array_job_id: int | None) -> bool:
    """Whether ``ref`` names this array task by itself (12_7, 12_[3-5], or the task's own job id), not its array."""
    return array_job_id is not None and str(ref).strip() != str(array_job_id)


def mark(stored: dict[str, Any], ref: str, array_job_id: int | None) -> None:
    """Marks a task's stored request (parsed) as split from its array when ``ref`` names it by itself."""
    if on_its_own(ref, array_job_id):
        stored[KEY] = True


def is_split(stored: str | None) -> bool:
    """Whether a stored request carries the mark, without parsing it (a listing reads every row's request)."""
    return MARK.search(stored or "") is not None
