"""Whether a job's ``--dependency`` list lets it go, as Slurm judges it, from the outcomes of the jobs it names.

A dependency on a whole job array is stored one per task (each task's end is what releases it), but Slurm
judges ``afternotok`` on an array by its highest exit code: it holds once every task ended and any one of
them failed. Taken task by task it could never hold (every task would have to fail), so such entries carry
the array's id and are judged together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any, Literal

from hal.model.job import Dependency, DependencyKind, PendingReason

NEEDS = {DependencyKind.AFTEROK: True, DependencyKind.AFTERCORR: True, DependencyKind.AFTERNOTOK: False}  # outcomes
WHOLE = (DependencyKind.AFTEROK, DependencyKind.AFTERNOTOK)  # on a whole array: judged by its highest exit code


def _array_key(d: Dependency) -> tuple[str, int]:
    return d.kind.value, d.array or 0


def dependency_reason(
    deps: Sequence[Dependency],
    outcomes: Mapping[int, bool | None],
    running: Mapping[int, Any],
    now: float = math.inf,
    started: Mapping[int, float] | None = None,
) -> PendingReason | None:
    """None when every dependency holds; DependencyNeverSatisfied when one never can (whatever the others
    do, as Slurm shows it); Dependency while one still waits. ``outcomes``: True/False once a job ended,
    None while its outcome is unsettled (outputs being staged out). ``running`` holds each running job's
    ``start``, ``started`` the start of those that ended: ``after:JOB+MIN`` counts its minutes from there.
    Those of a '?' list (``any_of``): one of them met is enough, and they can never be once none can."""
    why = _all_of([d for d in deps if not d.any_of], outcomes, running, now, started or {})
    alts: dict[object, list[Dependency]] = {}  # each alternative: one job, or a whole array named once
    for d in (d for d in deps if d.any_of):
        alts.setdefault((d.kind, d.array) if d.array is not None else (d.kind, d.job_id, d.delay), []).append(d)
    if not alts or why is PendingReason.DEPENDENCY_NEVER_SATISFIED:
        return why
    verdicts = [_all_of(alt, outcomes, running, now, started or {}) for alt in alts.values()]
    if None in verdicts:
        return why
    return max(verdicts, key=lambda v: v is PendingReason.DEPENDENCY)  # Dependency while one may still be met


def _all_of(
    deps: Sequence[Dependency], outcomes: Mapping[int, bool | None], running: Mapping[int, Any], now: float,
    started: Mapping[int, float],
) -> PendingReason | None:  # fmt: skip
    waiting = False
    singles = [d for d in deps if not (d.kind in WHOLE and d.array is not None)]
    arrays = [d for d in deps if d.kind in WHOLE and d.array is not None]
    for dep in singles:
        if dep.kind is DependencyKind.AFTER:
            waiting = waiting or after_waits(dep, outcomes, running, now, started)
            continue
        outcome = outcomes.get(dep.job_id)
        if outcome is None:
            waiting = True
        elif outcome is not NEEDS.get(dep.kind, outcome):  # afterok on a failure, afternotok on a success
            return PendingReason.DEPENDENCY_NEVER_SATISFIED
    for (kind, _), tasks in groupby(sorted(arrays, key=_array_key), key=_array_key):
        ends = [outcomes.get(d.job_id) for d in tasks]
        if None in ends:  # judged once every task ended, as Slurm judges an array (QA: afterok:ARRAY failed, and
            waiting = True  # --kill-on-invalid-dep cancelled, while tasks still ran and a requeue could rescue it)
        elif all(ends) if kind == DependencyKind.AFTERNOTOK.value else not all(ends):  # its highest exit code
            return PendingReason.DEPENDENCY_NEVER_SATISFIED
    return PendingReason.DEPENDENCY if waiting else None


Standing = Literal["met", "unfulfilled", "failed"]


def standing(
    deps: Sequence[Dependency], outcomes: Mapping[int, bool | None], running: Mapping[int, object]
) -> Standing:
    """How the dependencies typed as one stand (afterok:6_* is one per task of array 6), as squeue's %E marks each:
    met (it drops out of the list), unfulfilled while it may still be met, failed once it never can."""
    reason = dependency_reason(deps, outcomes, running)
    if reason is None:
        return "met"
    return "failed" if reason is PendingReason.DEPENDENCY_NEVER_SATISFIED else "unfulfilled"


def after_waits(
    dep: Dependency, outcomes: Mapping[int, bool | None], running: Mapping[int, Any], now: float,
    started: Mapping[int, float],
) -> bool:  # fmt: skip
    """``after:JOB[+MIN]`` (Slurm): JOB started, or was cancelled before it started, MIN minutes ago. An ended
    job whose start the engine was not told (it ended before a restart) counts as long started."""
    act = running.get(dep.job_id)
    if act is None and dep.job_id not in outcomes:
        return True
    if not dep.delay:
        return False
    since = act.start if act is not None else started.get(dep.job_id, -math.inf)
    return since + dep.delay > now
