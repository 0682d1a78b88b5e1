"""`hal update`: Slurm's `scontrol update job`, for a job's request after submission, and `scontrol update
NodeName=... State=DRAIN|RESUME` for nodes (what `hal drain`/`hal resume` do), so an admin's habit works."""

from __future__ import annotations

from typing import Annotated

import typer

from hal.cli.common import err, fail, out
from hal.cli.drain import not_drained
from hal.cli.job_refs import split_refs
from hal.cli.live import JsonOpt, client, emit_json
from hal.client import HalError
from hal.executors.hostlist import expand

HELP = """Change a job after submission (scontrol update job): `hal update 12 TimeLimit=30 Nice=100`.

While it is pending (it keeps its id and its place in the queue): TimeLimit (a time, or +/- a change), TimeMin,
JobName, Comment, Requeue, Partition, QOS, Account, Nice, StartTime, Dependency, NumNodes, NumTasks,
Features, ReqNodeList, ExcNodeList, ArrayTaskThrottle (12, the whole array), Switches=N[@maxwait],
Topology=required=LEVEL|preferred=LEVEL|none, Segment=N (Segment= drops it). Once it runs: TimeLimit,
JobName, Comment, Requeue. Only an administrator raises a time limit or sets a negative Nice.
Priority=0 holds a pending job (as hal hold); other Priority values are not supported (use Nice).

Nodes (administrators): `hal update NodeName=vn[001-002] State=DRAIN Reason="fans"` (as hal drain) and
`State=RESUME` or `State=UNDRAIN` (as hal resume)."""


def update(
    words: Annotated[list[str], typer.Argument(help="JOBID (or JobId=JOBID), then FIELD=VALUE pairs")],
    json_out: bool = JsonOpt,
) -> None:
    kind, job, fields = _parse(words)
    if kind == "node":
        _update_nodes(job, fields, json_out)
        return
    refs = split_refs(job)  # 12,13: each once, as scontrol; 12_[1,3] kept whole
    done: dict[str, list[int]] = {}
    failed: dict[str, str] = {}
    notes: list[str] = []
    with client() as c:
        for ref in refs:  # each on its own: one that is refused is reported, the rest still updated
            try:
                got = c.update_notes(ref, **fields)
            except HalError as exc:
                failed[ref] = str(exc)
                continue
            done[ref] = list(got["updated"])
            notes += got.get("notes") or []  # an older server sends none
    if json_out:
        emit_json({"updated": [i for ids in done.values() for i in ids], "failed": failed, "notes": notes})
    else:
        said = " ".join(f"{k}={v}" for k, v in fields.items())
        for ref, ids in done.items():
            what = f"job {ref}" if len(ids) == 1 else f"{len(ids)} jobs of {ref}"
            out.print(f"updated {what}: {said}", markup=False, highlight=False)
        for note in notes:
            err.print(f"note: {note}", markup=False, highlight=False)
        for ref, why in failed.items():
            err.print(f"hal update {ref}: {why}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)


update.__doc__ = HELP
NODE_STATES = {"drain": "drain", "resume": "resume", "undrain": "resume"}


def _update_nodes(nodes: str, fields: dict[str, str], json_out: bool) -> None:
    """scontrol update NodeName=LIST State=DRAIN Reason=WHY | State=RESUME|UNDRAIN."""
    given = {k.lower(): v for k, v in fields.items()}
    state = given.pop("state", None)
    reason = given.pop("reason", None)
    if given:
        names = ", ".join(k for k in fields if k.lower() in given)
        raise fail(f"{names}: HAL updates a node's State (DRAIN, RESUME, UNDRAIN) and Reason only")
    if state is None and not reason:
        raise fail("give State=DRAIN Reason=WHY or State=RESUME for NodeName=...")
    action = NODE_STATES.get(state.lower()) if state is not None else "reason"
    if action is None:
        raise fail(
            f"State={state}: HAL takes nodes out of service with State=DRAIN (running jobs finish) and back with"
            " State=RESUME or UNDRAIN"
        )
    with client() as c:
        if action == "reason":  # Reason= alone: a drained node's reason changes (as scontrol)
            draining = {n["name"] for n in c.nodes()["nodes"] if n["state"] in ("drain", "drng")}
            idle = [n for n in expand_nodes(nodes) if n not in draining]
            if idle:
                raise fail(f"Reason= alone changes a drained node's reason; not drained: {', '.join(idle[:5])}")
            action = "drain"
        done = c.drain(nodes, reason or "") if action == "drain" else c.resume(nodes)
    if action == "resume":  # scontrol: the others are updated, these reported
        not_drained(nodes, done, "hal update")
    if json_out:
        emit_json({"drained" if action == "drain" else "resumed": done})
    else:
        out.print(f"{'drained' if action == 'drain' else 'resumed'} {', '.join(done)}", highlight=False)


def expand_nodes(nodes: str) -> list[str]:
    try:
        return expand(nodes)
    except ValueError as exc:
        raise fail(f"NodeName={nodes}: {exc}") from None


def _parse(words: list[str]) -> tuple[str, str, dict[str, str]]:
    """``12 TimeLimit=30`` or scontrol's ``JobId=12 TimeLimit=30`` (any order, any case for JobId): ("job",
    "12", fields); ``NodeName=vn[1-2] State=DRAIN``: ("node", "vn[1-2]", fields)."""
    kind, job = "job", ""
    fields: dict[str, str] = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq and not job:
            job = word
        elif eq and key.lower() in ("jobid", "job") and kind == "job":
            job = value
        elif eq and key.lower() in ("nodename", "node") and not job:
            kind, job = "node", value
        elif eq and key:
            fields[key] = value
        else:
            raise typer.BadParameter(f"{word!r}: give JOBID, then FIELD=VALUE pairs (e.g. TimeLimit=1:00)")
    if not job:
        raise typer.BadParameter("which job? give JOBID or JobId=JOBID first (or NodeName=NODES for nodes)")
    if not fields:
        raise typer.BadParameter("nothing to update: give FIELD=VALUE pairs, e.g. TimeLimit=1:00")
    return kind, job, fields
