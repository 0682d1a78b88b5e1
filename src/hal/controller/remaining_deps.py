"""squeue's %E (-O Dependency), "job dependencies remaining": a pending job's dependencies not yet met, each with its
own state, as GET /v1/jobs?detail=true gives them (``dependencies_remaining``). QA: one mark taken from the job's
reason put every dependency in the same state and kept the met ones (afterany:80(failed) on a running job,
afterok:72_0(failed) on a task that exited 0), and a dependency on a whole array printed as afterok:6, not 6_*."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal, TypedDict

from hal.controller.jobs import Row, dependencies
from hal.engine.dependencies import standing
from hal.model.job import Dependency


class Remaining(TypedDict):
    dependency: str  # as squeue prints it: afterok:6_2, afterok:6_* (every task of array 6), singleton
    state: Literal["unfulfilled", "failed"]  # failed: it can never be met (DependencyNeverSatisfied)


def typed_groups(pairs: Sequence[Sequence[str]], deps: Sequence[Dependency]) -> list[tuple[str, list[Dependency]]]:
    """Each dependency as typed, with the resolved entries it stands for. Both are stored in the same order
    (admission.resolve_deps): one entry a job, every task of a whole array carrying the array's id; a singleton is
    one however many jobs it waits for. Should they not line up (a task list, 6_[1-3]), the typed list stands as
    one for all the entries."""
    groups: dict[str, list[Dependency]] = {}
    at = 0
    for kind, ref in pairs:
        want = "afterany" if kind == "singleton" else kind  # a singleton waits for each other job of its name
        whole = ref.isdigit() and at < len(deps) and deps[at].array == int(ref)
        n = 0 if kind == "singleton" and not ref else 1  # none left of that name: nothing to wait for
        while whole and at + n < len(deps) and deps[at + n].array == deps[at].array:
            n += 1
        group = list(deps[at : at + n])
        if len(group) != n or any(d.kind.value != want for d in group):
            break
        label = "singleton" if kind == "singleton" else f"{kind}:{ref}_*" if whole else f"{kind}:{ref}"
        groups.setdefault(label, []).extend(group)
        at += n
    else:
        if at == len(deps):
            return list(groups.items())
    typed = dict.fromkeys("singleton" if k == "singleton" else f"{k}:{r}" for k, r in pairs)
    return [(",".join(typed), list(deps))]


def with_remaining(ctl: Any, rows: list[Row], recs: list[dict[str, Any]], detail: bool = True) -> None:
    """With ``detail``, each record's ``dependencies_remaining`` ([] but for a pending job's), judged from what the
    engine knows of the jobs named (the store's state for one that ended before the engine held it)."""
    if not detail:
        return
    todo: list[tuple[dict[str, Any], list[tuple[str, list[Dependency]]]]] = []
    for row, rec in zip(rows, recs, strict=True):
        rec["dependencies_remaining"] = []
        stored = json.loads(row["request"]) if row["state"] == "PENDING" else {}
        if stored.get("dependencies"):
            todo.append((rec, typed_groups(stored["dependencies"], dependencies(stored.get("_deps", [])))))
    if not todo:
        return
    with ctl.lock:
        sched = ctl.sched
        named = {d.job_id for _, groups in todo for _, deps in groups for d in deps}
        outcomes = {j: sched.outcomes[j] for j in named if j in sched.outcomes}
        gone = [j for j in named if j not in outcomes and j not in sched.running and j not in ctl.live]
        for jid, state in (ctl.store.states(gone) if gone else {}).items():
            if state not in ("PENDING", "RUNNING"):
                outcomes[jid] = None if state == "STAGE_OUT" else state == "COMPLETED"
        for rec, groups in todo:
            left: list[Remaining] = []
            for label, deps in groups:
                mark = standing(deps, outcomes, sched.running)
                if mark != "met":
                    left.append(Remaining(dependency=label, state=mark))
            rec["dependencies_remaining"] = left
