"""The limit a user asked for, kept when an administrator raises it (hal update TimeLimit=): start forecasts learn
a user's runtime errors as shares of what the user asks for (hal/engine/runtime_draws.py), and a raise the user
never asked for would teach them shares of it. Kept on the job's spec (``JobSpec.asked_limit``); a restart rebuilds
specs from the stored request, so a job raised before a restart is learned against its raised limit."""

from __future__ import annotations

from hal.controller.directives import JobRequest
from hal.model.job import JobSpec


def asked(spec: JobSpec, req: JobRequest) -> float | None:
    """The limit a start forecast learns the job's runtime error against after this update (``asked_limit``):
    the one the user asked for before a raise (only administrators raise limits), the new one after a cut."""
    before = spec.asked_limit if spec.asked_limit is not None else spec.time_limit
    raised = before is not None and (req.time_limit is None or req.time_limit > before)
    return before if raised else None
