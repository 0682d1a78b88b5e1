"""An input's writer as an implicit ``afterok`` (``hal.controller.admission.admit_data``) stands for the data, not
for the writer: once the catalog holds every input that writer was to write (an administrator registered it with
`hal dataset add` after the writer failed), that dependency is met and dropped, and the reader goes on, as README
promises an input the catalog does not know. QA: the reader stayed DependencyNeverSatisfied for good on a
dependency it never asked for, until its user found it and cleared it with `hal update JOB Dependency=`. A
dependency the user typed (--dependency, hal update Dependency=) is never dropped: it is not in ``data_waits``."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from hal.controller.jobs import Live
from hal.model.job import DependencyKind, PendingReason

log = logging.getLogger("hal.controller")


def release_published(ctl: Any, now: float) -> list[int]:
    """After a cycle (under the controller's lock): the jobs found DependencyNeverSatisfied only because an
    implicit writer failed whose inputs the catalog now holds, their implicit afterok dropped (stored, then the
    engine told) so they are judged again at the next cycle. Their ids. A dict lookup per input of those jobs."""
    if ctl.staging is None:
        return []
    todo: list[tuple[Live, list[str]]] = []
    for jid, why in list(ctl.sched.reasons.items()):
        lv = ctl.live.get(jid)
        if why is not PendingReason.DEPENDENCY_NEVER_SATISFIED or lv is None or not lv.request.data_waits:
            continue
        met = [ref for ref, names in lv.request.data_waits.items() if _published(ctl, ref, names)]
        if met and lv.state == "PENDING":
            todo.append((lv, met))
    if not todo:
        return []
    rows = {r["id"]: r for r in ctl.store.query(job_ids=[lv.job_id for lv, _ in todo])}
    done: list[tuple[Live, list[str], Any]] = []
    with ctl.store.engine.begin() as conn:
        for lv, met in todo:
            if (row := rows.get(lv.job_id)) is None:
                continue
            req = dataclasses.replace(
                lv.request,
                dependencies=[d for d in lv.request.dependencies if not (d[0] == "afterok" and d[1] in met)],
                data_waits={ref: names for ref, names in lv.request.data_waits.items() if ref not in met},
            )
            stored = json.loads(row["request"])
            stored["dependencies"], stored["data_waits"] = req.dependencies, req.data_waits
            stored["_deps"] = [d for d in stored.get("_deps", []) if not (d[0] == "afterok" and str(d[1]) in met)]
            said = "; ".join(met_cause(ref, lv.request.data_waits[ref]) for ref in met)
            values = {"request": json.dumps(stored, separators=(",", ":")), "cause": said}
            ctl.store.update_job(conn, lv.job_id, values, (lv.job_id, now, "UPDATE", said))
            done.append((lv, met, req))
    for lv, met, req in done:  # committed: only now does the engine change
        kept = [d for d in lv.spec.dependencies if not (d.kind is DependencyKind.AFTEROK and str(d.job_id) in met)]
        lv.request, lv.spec = req, dataclasses.replace(lv.spec, dependencies=tuple(kept))
        ctl.sched.withdraw(lv.job_id)
        ctl._to_engine(lv, now)
        log.info("job %s: its afterok on %s met: the catalog holds what they were to write", lv.job_id, met)
    if done:
        ctl.wake.set()
    return [lv.job_id for lv, _, _ in done]


def met_cause(ref: str, names: list[str]) -> str:
    """The cause a released job shows (hal show's Cause=) and its event: which wait was met, and by what."""
    what = ", ".join(repr(n) for n in names) or "its input"
    return f"afterok:{ref} met: job {ref} never published {what}, but the catalog holds it now (hal dataset add)"


def _published(ctl: Any, ref: str, names: list[str]) -> bool:
    """Whether writer ``ref`` ended without success (the engine's outcome False: failed, cancelled) and the
    catalog holds every one of ``names`` all the same. A writer that succeeded releases its readers itself."""
    return ref.isdigit() and ctl.sched.outcomes.get(int(ref)) is False and not ctl.staging.uncataloged(list(names))
