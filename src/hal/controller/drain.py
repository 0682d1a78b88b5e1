"""Draining nodes (Slurm's `scontrol update NodeName=... State=DRAIN Reason=...`): an administrator takes nodes
out of service with a reason; their running jobs finish, nothing new starts or is planned there, and the drain
outlives a restart until `resume`."""

from __future__ import annotations

import numpy as np

from hal.controller.auth import Identity
from hal.controller.contracts import Forbidden, SubmitError
from hal.controller.core import Controller
from hal.executors.hostlist import expand


def apply_drains(ctl: Controller) -> int:
    """At start: the drains the records hold (nodes no longer in the cluster file are forgotten)."""
    known = set(ctl.table.names)
    ctl.drained = {n: r for n, r in ctl.store.drained().items() if n in known}
    _to_engine(ctl)
    return len(ctl.drained)


def drain(ctl: Controller, nodes: str, reason: str, who: Identity) -> list[str]:
    names = _names(ctl, nodes, who)
    if not reason.strip():
        raise SubmitError(
            "give a reason for the drain (Slurm asks for one too): Reason='disk replaced' (hal update) or --reason"
        )
    now = ctl.clock()
    with ctl.lock, ctl.store.engine.begin() as conn:
        for name in names:
            row = {"state": "drain", "reason": reason.strip(), "user": who.user, "time": now}
            ctl.store.set_drained(conn, name, row)
            ctl.drained[name] = row
        _to_engine(ctl)
    return names


def resume(ctl: Controller, nodes: str, who: Identity) -> list[str]:
    names = _names(ctl, nodes, who)
    idle = [n for n in names if n not in ctl.drained]
    if len(idle) == len(names):  # Slurm calls it an invalid state change; saying 'resumed' hid a typo'd node list
        raise SubmitError(f"not drained: {', '.join(idle[:5])}")
    names = [n for n in names if n in ctl.drained]  # as Slurm: the drained ones resume, the others are said
    with ctl.lock, ctl.store.engine.begin() as conn:
        for name in names:
            ctl.store.set_drained(conn, name, None)
            ctl.drained.pop(name, None)
        _to_engine(ctl)
    return names


def _names(ctl: Controller, nodes: str, who: Identity) -> list[str]:
    if not who.admin:
        raise Forbidden("only admins may drain or resume nodes")
    try:
        names = list(dict.fromkeys(expand(nodes)))
    except ValueError as exc:
        raise SubmitError(f"{nodes!r}: {exc}") from None
    unknown = sorted(set(names) - set(ctl.table.names))
    if unknown or not names:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise SubmitError(f"no such node(s): {', '.join(unknown[:5]) + more if unknown else repr(nodes)}")
    return names


def _to_engine(ctl: Controller) -> None:
    down = np.isin(np.array(ctl.table.names), list(ctl.drained))
    ctl.book.set_down(down)
    ctl.sched.epoch += 1  # a pass's memos assumed the old set of usable nodes
    ctl.wake.set()
