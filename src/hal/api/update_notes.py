"""What `hal update JOB Dependency=...` kept that the user did not type: an ``afterok`` on a job that writes a
dataset this job reads (``hal.controller.admission.admit_data``) stays, as at submission, so the reader never starts
before its data exists. The reply said "updated ... Dependency=" (QA), and the job went on waiting for a job its new
dependency list did not name."""

from __future__ import annotations

from typing import Any

from hal.controller.option_values import parse_dependency


def kept_dependencies(ctl: Any, ids: list[int], fields: dict[str, str]) -> list[str]:
    """A note for each updated job still waiting on a writer of its inputs that the new Dependency= left out."""
    typed_text = next((v for k, v in fields.items() if k.lower() == "dependency"), None)
    if typed_text is None:
        return []
    typed = set(parse_dependency(typed_text)) if typed_text not in ("", "0") else set()
    notes = []
    for job_id in ids:
        lv = ctl.live.get(job_id)
        if lv is None or not lv.request.inputs:
            continue
        for kind, ref in lv.request.dependencies:
            if kind != "afterok" or (kind, ref) in typed:
                continue
            writer = ctl.live.get(int(ref)) if ref.isdigit() else None
            names = sorted(set(writer.spec.outputs) & set(lv.request.inputs)) if writer is not None else []
            what = f"dataset {', '.join(repr(n) for n in names)}" if names else "a dataset"
            notes.append(f"job {job_id} still waits for job {ref} (afterok): it writes {what} that job {job_id} reads")
    return notes
