"""The limit a user asked for, kept when an administrator raises it (hal update TimeLimit=): start forecasts learn
a user's runtime errors as shares of what the user asks for (hal/engine/runtime_draws.py), and a raise the user
never asked for would teach them shares of it. Kept on the job's spec (``JobSpec.asked_limit``) and in its stored
request (``KEY``), so a restart or a requeue, which rebuild the spec from there, keep it too."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from typing import Any

from hal.controller.directives import JobRequest
from hal.model.job import JobSpec

KEY = "_asked"  # in the stored request, beside _deps and _eligible


def asked(spec: JobSpec, req: JobRequest) -> float | None:
    """The limit a start forecast learns the job's runtime error against after this update (``asked_limit``):
    the one the user asked for before a raise (only administrators raise limits), the new one after a cut."""
    before = spec.asked_limit if spec.asked_limit is not None else spec.time_limit
    raised = before is not None and (req.time_limit is None or req.time_limit > before)
    return before if raised else None


def keep(stored: MutableMapping[str, Any], spec: JobSpec, req: JobRequest) -> None:
    """Record in the job's stored request the limit ``asked`` gives after this update."""
    value = asked(spec, req)
    if value is None:
        stored.pop(KEY, None)
    else:
        stored[KEY] = value


def restored(spec: JobSpec, stored: Mapping[str, Any]) -> JobSpec:
    """A spec rebuilt from a stored request, with the limit its user asked for when an administrator raised it."""
    value = stored.get(KEY)
    return spec if value is None else replace(spec, asked_limit=float(value))
