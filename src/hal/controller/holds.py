"""`hal hold` / `hal release` (Slurm's scontrol hold/release, sbatch -H): a held job keeps its place in the
records and never starts until released. The hold is kept in the job's stored request, so a restarted
controller holds it again."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

from hal.controller.array_split import mark
from hal.controller.auth import Identity
from hal.controller.contracts import Forbidden, Gate, SubmitError
from hal.controller.parked import PARKED


def set_hold(ctl: Any, ref: str, who: Identity, held: bool) -> list[int]:
    """Hold (``held``) or release every pending job ``ref`` names; returns the ids of those it changed (a release
    of an array with one task held released that one: the others were not touched, nor named). Running or ended
    jobs are refused, as Slurm refuses them ("job is no longer pending execution")."""
    ids = ctl.resolve(ref)
    now = ctl.clock()
    verb = "hold" if held else "release"
    with ctl.lock:
        rows = {r["id"]: r for r in ctl.store.query(job_ids=ids)}
        owners = {r["user"] for r in rows.values()}
        if any(not who.may_see(u) for u in owners):
            raise Forbidden(f"job {ref} belongs to another user; you may {verb} only your own jobs")
        pending = [j for j in ids if j in ctl.live and ctl.live[j].state == "PENDING"]
        if not pending:
            staging = ctl.staging.staging if ctl.staging is not None else {}
            states = sorted({"CONFIGURING" if j in staging else str(rows[j]["state"]) for j in ids if j in rows})
            raise SubmitError(f"cannot {verb} job {ref}: it is no longer pending ({', '.join(states)})")
        if not held and not who.admin and any(ctl.live[j].request.hold_admin for j in pending):
            raise Forbidden(f"job {ref} was held by an administrator (JobHeldAdmin); only one can release it")
        asked = {j: _asked(ctl.live[j].request, who, held) for j in pending}
        changed = [j for j in pending if _hold_of(ctl.live[j].request) != asked[j]]
        cause = f"held by {who.user}" if held else f"released by {who.user}"
        with ctl.store.engine.begin() as conn, ctl.store.batched(conn):  # recorded first: a commit that fails
            for jid in changed:  # changes nothing (QA: a release answered 503 and the job started anyway)
                values = _record(ctl.live[jid], rows[jid], ref, asked[jid], now, cause)
                ctl.store.update_job(conn, jid, values, (jid, now, "PENDING", cause))
        moved: list[int] = []  # tasks held out of their %limit's slot, or released behind it: the line and its
        for jid in changed:  # one already as asked keeps its place, cause and release time (Slurm: a no-op)
            lv = ctl.live[jid]
            lv.request = dataclasses.replace(lv.request, hold=held, hold_admin=asked[jid][1])  # [1]: JobHeldAdmin
            lv.spec = dataclasses.replace(lv.spec, held=held)
            if not held and max(lv.spec.submit_time, lv.spec.begin_time or 0.0) < now:  # eligible from now, as
                lv.spec = dataclasses.replace(lv.spec, begin_time=now)  # waiting_since: a task entering later ages so
            gate = ctl.gates.get(lv.array_job_id) if lv.array_job_id is not None else None
            if held and gate is not None and jid not in ctl.gated:  # give its %limit slot to the next task
                ctl.sched.withdraw(jid)
                ctl.parked.drop(jid)  # a parked task is tried again when released into its %limit
                gate.inflight -= 1
                moved.append(jid)  # slots are settled once all are done (one at a time, each task held or
                ctl.gated.add(jid)
            elif jid not in ctl.gated and jid not in ctl.deferred and jid not in ctl.parked:  # the rest enter
                ctl.sched.hold(jid, held, now)  # the engine as they are (a parked one: when tried again)
            elif not held and gate is not None and jid in ctl.gated:  # released scanned the whole line)
                moved.append(jid)
        for array_id in {ctl.live[j].array_job_id for j in changed} & set(ctl.gates):
            gate, tasks = ctl.gates[array_id], [j for j in moved if ctl.live[j].array_job_id == array_id]
            if held:  # to the front of the line, in order; freed slots go to the next tasks once all are held
                gate.waiting.extendleft(reversed(tasks))  # (each next task went through the engine to be held in
            else:  # turn, leaving the line reversed: the highest task ran next); released ones take them as named
                admit_first(ctl, gate, tasks, now)
            admit_waiting(ctl, gate, now)
        ctl.wake.set()
    return changed


def _record(lv: Any, row: Any, ref: str, asked: tuple[bool, bool], now: float, cause: str) -> dict[str, Any]:
    """The columns a hold or release writes to the job's record, from its stored request."""
    request = json.loads(row["request"])
    held = asked[0]
    request["hold"], request["hold_admin"] = asked
    mark(request, ref, lv.array_job_id)  # a task held or released by itself: its own line in hal queue
    if not held:  # when it could start at the earliest: a replay of the history submits it then
        request["_released"] = now
    values = {"request": json.dumps(request), "cause": cause}
    if str(row.get("cause") or "").startswith(KEPT_CAUSES):  # the data plane's reason reads it
        del values["cause"]
    return values


def _hold_of(request: Any) -> tuple[bool, bool]:
    return bool(request.hold), bool(request.hold_admin)


def _asked(request: Any, who: Identity, held: bool) -> tuple[bool, bool]:
    """The hold a job ends up with: held or not, and by an administrator. An administrator's hold is one (of any
    job, their own too: Slurm's operator hold); a user's hold of a job an administrator holds leaves it so (QA: it
    replaced the admin's hold with the user's, which the user could then release)."""
    if not held:
        return False, False
    return True, bool(who.admin or (request.hold and request.hold_admin))


KEPT_CAUSES = ("requeued after a failed stage-in", "waiting for cache room", PARKED)  # StageInRetry, CacheWait (QA:
# a hold and release turned them into BeginTime, and the stage-in error was gone); why a parked job waits


def gate_of(ctl: Any, array_id: int, limit: int) -> Gate:
    """The array's %limit gate, made when it has none (a limit added by hal update, or an array that ended
    before a restart and is requeued): it counts the array's unended tasks already past it."""
    gate: Gate | None = ctl.gates.get(array_id)
    if gate is None:
        inside = [j for j, o in ctl.live.items() if o.array_job_id == array_id and j not in ctl.gated]
        gate = ctl.gates[array_id] = Gate(limit, len(inside))
    return gate


def admit_first(ctl: Any, gate: Any, tasks: list[int], now: float) -> None:
    """Let ``tasks`` (waiting behind the %limit, just released) into the engine in the order given, while it has
    room: as each released task took a free slot at once when a release admitted them one at a time."""
    room = gate.limit - gate.inflight
    picked = [j for j in tasks if not ctl.live[j].spec.held][: max(room, 0)]
    if not picked:
        return
    chosen = set(picked)
    kept = [j for j in gate.waiting if j not in chosen]  # one pass: a remove each scanned the line
    gate.waiting.clear()
    gate.waiting.extend(kept)
    for jid in picked:
        ctl.gated.discard(jid)
        gate.inflight += 1
        ctl._to_engine(ctl.live[jid], now)


def admit_waiting(ctl: Any, gate: Any, now: float) -> None:
    """Let an array's waiting tasks into the engine while its %limit has room, in order, skipping held ones
    (a held task takes no slot: Slurm's %N counts the tasks that can run)."""
    room = gate.limit - gate.inflight
    if room <= 0:  # a cancel of a whole array asks for each task: each read the whole line
        return
    for jid in list(itertools.islice((j for j in gate.waiting if not ctl.live[j].spec.held), room)):
        gate.waiting.remove(jid)
        ctl.gated.discard(jid)
        gate.inflight += 1
        ctl._to_engine(ctl.live[jid], now)
