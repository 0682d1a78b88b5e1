"""`hal update JOB Priority=N` (scontrol update job Priority=N): Priority=0 holds the job, as Slurm's does (hal
hold, with its rules: a user's hold, an administrator's JobHeldAdmin); any other value is refused, since HAL's
engine computes every job's priority (its order's factors) and keeps no fixed one per job to pin."""

from __future__ import annotations

from typing import Any

from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.holds import set_hold


def update_priority(ctl: Any, ref: str, who: Identity, fields: dict[str, str]) -> list[int] | None:
    """The jobs a Priority=0 update held (None: the update names no Priority; it goes on as any other)."""
    key = next((k for k in fields if k.lower().replace("_", "") == "priority"), None)
    if key is None:
        return None
    value = str(fields[key]).strip()
    try:
        number = int(value)
    except ValueError:
        raise SubmitError(f"{key}={value}: a whole number (Priority=0 holds the job)") from None
    if number != 0:
        raise SubmitError(
            f"{key}={value}: HAL keeps no fixed priority per job (its order computes every job's from age, fair "
            "share, size, partition, QOS and nice): Nice=N lowers a job, a negative Nice (administrators) raises "
            "it, and Priority=0 holds it (hal hold)"
        )
    others = [k for k in fields if k != key]
    if others:
        raise SubmitError(f"{key}=0 holds the job (as hal hold): update it alone, then {', '.join(others)}")
    set_hold(ctl, ref, who, True)  # refuses what hal hold refuses (another's job, one no longer pending)
    return [j for j in ctl.resolve(ref) if j in ctl.live and ctl.live[j].state == "PENDING"]
