"""`hal history`: sacct for HAL, with --format, time windows and user filters."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from hal.cli.common import err, fail, writable_files
from hal.cli.history_filters import narrowed
from hal.cli.job_refs import split_refs
from hal.cli.live import (
    JsonOpt,
    client,
    duration,
    emit_json,
    parse_states,
    parse_when,
    sacct_duration,
    stamp,
    tres,
    whole_elapsed,
)
from hal.cli.sacct_columns import parse_columns, render
from hal.cli.show import WAITING_ON_OTHERS
from hal.client import HalError
from hal.executors.hostlist import expand


def limit_minutes(seconds: float | None) -> str:
    """sacct's TimelimitRaw: the limit in whole minutes (Slurm keeps limits in minutes, a part-minute rounds up),
    UNLIMITED when there is none (admission gives a job its partition's limit, so none is left to show as
    Partition_Limit)."""
    return "UNLIMITED" if seconds is None else str(math.ceil(float(seconds) / 60))


def eligible(j: dict[str, Any]) -> str:
    """sacct's Eligible: when the job could first start (its submit, --begin, release or the moment its dependencies
    were met, as hal show's EligibleTime); Unknown while it waits for other jobs or a release, as sacct says."""
    if j["state"] == "PENDING" and j.get("reason") in WAITING_ON_OTHERS:
        return "Unknown"
    return stamp(max(j["submit_time"], j.get("begin") or 0, j.get("released") or 0, j.get("eligible") or 0))


DEFAULT = "JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode"
FIELDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "jobid": lambda j: j["id"], "jobname": lambda j: j["name"], "partition": lambda j: j["partition"],
    "account": lambda j: j["account"], "user": lambda j: j["user"], "alloccpus": lambda j: str(j["alloc_cpus"]),
    "state": lambda j: j["state"], "exitcode": lambda j: f"{j['exit_code'] or 0}:{j['signal'] or 0}",
    "derivedexitcode": lambda j: f"{j['exit_code'] or 0}:{j['signal'] or 0}",  # the highest of its steps': no steps
    "elapsed": lambda j: sacct_duration(whole_elapsed(j)), "timelimit": lambda j: sacct_duration(j["time_limit"]),
    "submit": lambda j: stamp(j["submit_time"]), "start": lambda j: stamp(j["start_time"]),
    "end": lambda j: stamp(j["end_time"]), "nodelist": lambda j: j["nodelist"],
    "maxrss": lambda j: f"{j['max_rss_mb']:.0f}M", "totalcpu": lambda j: duration(j["cpu_seconds"]),
    "reqcpus": lambda j: str(j["req_cpus"]), "reqmem": lambda j: f"{j['req_mem_mb']}M",
    "restarts": lambda j: str(j["restarts"]),
    "reason": lambda j: (j.get("reason") if j["state"] == "PENDING" else None) or j.get("cause") or "None",
    "qos": lambda j: j.get("qos") or "", "reqtres": tres, "alloctres": lambda j: tres(j, allocated=True),
    "nnodes": lambda j: str(len(expand(j["nodelist"])) if j.get("nodelist") else j.get("req_nodes") or 1),
    "ntasks": lambda j: str(j.get("req_tasks") or 1), "jobidraw": lambda j: str(j["job_id"]),
    "workdir": lambda j: j.get("workdir") or "", "comment": lambda j: j.get("comment") or "",
    "cputime": lambda j: sacct_duration(whole_elapsed(j) * (j.get("alloc_cpus") or 0)),
    "cputimeraw": lambda j: str(whole_elapsed(j) * (j.get("alloc_cpus") or 0)),
    "elapsedraw": lambda j: str(whole_elapsed(j)),
    "ncpus": lambda j: str(j["alloc_cpus"]),  # sacct: the CPUs allocated, as AllocCPUS
    "timelimitraw": lambda j: limit_minutes(j.get("time_limit")),
    "eligible": eligible,
}  # fmt: skip
BRIEF = "JobID,State,ExitCode"


def history(
    fmt: Annotated[str, typer.Option("--format", "-o", help=f"columns, e.g. {DEFAULT},Elapsed,MaxRSS")] = DEFAULT,
    user: Annotated[str | None, typer.Option("--user", "-u", help="only these users' jobs: a,b")] = None,
    me: Annotated[bool, typer.Option("--me", help="only your own jobs")] = False,
    all_users: Annotated[
        bool, typer.Option("--allusers", "-a", help="every user's jobs (an admin's default; users see their own)")
    ] = False,
    starttime: Annotated[
        str | None,
        typer.Option(
            "--starttime", "-S", help="jobs ended since (ISO, HH:MM or now-2h); default 00:00 today, all with -j/-s"
        ),
    ] = None,
    endtime: Annotated[str | None, typer.Option("--endtime", "-E", help="jobs submitted until")] = None,
    state: Annotated[str | None, typer.Option("--state", "-s", help="e.g. COMPLETED,FAILED")] = None,
    jobs: Annotated[str | None, typer.Option("--jobs", "-j", help="comma-separated job ids")] = None,
    json_out: bool = JsonOpt,
    parsable: Annotated[
        bool, typer.Option("--parsable2", "-P", help="fields separated by '|', no padding (for scripts)")
    ] = False,
    brief: Annotated[bool, typer.Option("--brief", "-b", help="JobID, State and ExitCode only")] = False,
    parsable1: Annotated[bool, typer.Option("--parsable", "-p", help="as -P, each line ending in '|'")] = False,
    noheader: Annotated[bool, typer.Option("--noheader", "-n", help="no header line")] = False,
    allocations: Annotated[
        bool, typer.Option("--allocations", "-X", help="accepted: HAL records no job steps, only allocations")
    ] = False,
    duplicates: Annotated[
        bool, typer.Option("--duplicates", "-D", help="a requeued job's earlier attempts too, each its own row")
    ] = False,
    swf: Annotated[
        Path | None,
        typer.Option(help="write the ended jobs as an SWF trace (for hal simulate/tune/predict-eval) to this file"),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="only jobs of these names: a,b")] = None,
    partition: Annotated[str | None, typer.Option("--partition", "-r", help="only jobs in these partitions")] = None,
    nodelist: Annotated[
        str | None, typer.Option("--nodelist", "-N", help="only jobs that ran on these nodes: vn[000-003]")
    ] = None,
    account: Annotated[str | None, typer.Option("--account", "-A", help="only jobs of these accounts")] = None,
    qos: Annotated[str | None, typer.Option("--qos", "-q", help="only jobs of these QOS")] = None,
    delimiter: Annotated[str, typer.Option("--delimiter", help="with -p/-P: between fields instead of '|'")] = "|",
) -> None:
    """Accounting records of your jobs (every state unless --state), oldest first: those still pending or
    running and those ended since midnight, as sacct lists them (-S for earlier, -s/-j for all time)."""
    if brief:
        if fmt != DEFAULT:
            raise fail("--brief and --format both choose the columns; give one")
        fmt = BRIEF
    try:
        cols = parse_columns(fmt)
    except ValueError as exc:
        raise fail(f"--format {exc}") from None
    unknown = [c.title for c in cols if c.key not in FIELDS]
    if unknown:
        raise fail(f"unknown --format fields {unknown}; known: {sorted(FIELDS)}")
    state, keep = parse_states(state)
    if swf is not None:
        if jobs:
            raise fail("--swf exports a stretch of history; it takes --starttime/--endtime/--user, not --jobs")
        if json_out or fmt != DEFAULT or duplicates:
            raise fail("--swf writes the SWF file only; --json, --format and --duplicates apply to the table")
        from hal.sim.accounting import ENDED  # the SWF side: only when exporting

        if keep is not None and not keep & set(ENDED):
            raise fail(f"--swf exports ended jobs; --state {','.join(sorted(keep))} names none (e.g. CD,F,CA,TO)")
        writable_files(swf)
        with client() as c:
            user = c.whoami()["user"] if me else user
            since, until = window(starttime, endtime)
            filters = {"user": user, "since": since, "until": until}
            export_swf(c, swf, state, all_users, filters)
        return
    with client() as c:
        user = c.whoami()["user"] if me else user
        if jobs is not None:
            refs = split_refs(jobs)  # 12,14_[1,3]: a task list keeps its commas
            if not refs:
                raise fail(f"-j {jobs!r}: give job ids, e.g. -j 12,13_2")
            recs: list[dict[str, Any]] = []
            for ref in refs:  # as sacct, the jobs it may show; one it may not is said, not fatal (QA)
                try:
                    rec = c.get(ref, duplicates=duplicates)
                except HalError as exc:
                    if len(refs) == 1 or exc.status not in (403, 404):  # a server down is not "no such job"
                        raise
                    err.print(f"hal history: job {ref}: {exc}", markup=False, highlight=False)
                    continue
                recs.extend(rec.get("tasks") or [rec])
        else:
            since, until = window(starttime, endtime)
            if starttime is None and keep is None:  # sacct: since midnight, unless -s (or -j) asks for more
                since = midnight()
            detail = any(col.key in ("comment", "eligible") for col in cols)  # kept with the request, not a column
            state = None if duplicates else state  # an attempt's state is not its job's: filtered below, by row
            filters = {"since": since, "until": until, "detail": detail, "duplicates": duplicates or None}
            everyone = all_users or user is None  # sacct as root: every user's (a user: their own)
            recs = every_job(c, all_users, state=state, all_users=everyone, user=user, **filters)
    if duplicates:  # sacct -D: each earlier attempt its own row, before the job's latest
        recs = [row for r in recs for row in (*r.pop("attempts", []), r)]
    recs = [
        r for r in recs if keep is None or r["state"] in keep or (r["state"] == "CONFIGURING" and "RUNNING" in keep)
    ]
    recs = narrowed(recs, name, partition, nodelist, account, qos)
    if json_out:
        emit_json({"jobs": recs})
        return
    rows = [[FIELDS[col.key](j) for col in cols] for j in recs]
    if parsable or parsable1:  # sacct -P/-p: whole values, nothing wrapped or cut
        rows = rows if noheader else [[col.title for col in cols], *rows]
        typer.echo("\n".join(delimiter.join(row) + (delimiter if parsable1 else "") for row in rows))
        return
    if rows or not noheader:  # sacct's columns: one line per job in a terminal or a pipe, cut with '+', never folded
        typer.echo(render(cols, rows, header=not noheader))


def window(starttime: str | None, endtime: str | None) -> tuple[float | None, float | None]:
    """-S and -E as times; a start after the end is refused, as sacct refuses it (it listed nothing)."""
    since, until = parse_when(starttime), parse_when(endtime)
    if since is not None and until is not None and since > until:
        raise fail(f"-S {starttime} is after -E {endtime}: no job can fall between them")
    return since, until


def midnight() -> float:
    """00:00 of the current day on this machine's clock: sacct's default start without -S, -s or -j."""
    return datetime.combine(date.today(), datetime.min.time()).timestamp()


def export_swf(c: Any, path: Path, state: str | None, all_users: bool, filters: dict[str, Any]) -> None:
    """Every matching record, page by page (the API returns at most 10,000 at a time), as an SWF file."""
    from hal.atomic_write import OutputError
    from hal.sim.accounting import to_swf
    from hal.sim.swf import write_swf

    recs = every_job(c, all_users, state=state, all_users=all_users or not filters.get("user"), detail=True, **filters)
    header, records = to_swf(recs, c.nodes())
    try:
        write_swf(path, records, header)
    except OutputError as exc:  # a full disk: one line, and the file as it was (atomic_write)
        raise fail(str(exc)) from None
    unfinished = len([r for r in recs if r["state"] in ("PENDING", "RUNNING", "STAGE_OUT")])
    err.print(
        f"wrote {len(records)} ended job(s) to {path}" + (f"; {unfinished} unfinished left out" if unfinished else "")
    )


PAGE = 10_000


def every_job(c: Any, asked_all: bool = True, **filters: Any) -> list[dict[str, Any]]:
    """All matching records, page by page: the API answers at most 10,000 at a time (they were cut there).
    ``all_users`` without ``asked_all``: Slurm's default scope (everyone's for an admin, as squeue and root's
    sacct show them; a user's own under PrivateData=jobs), so no note for a user who did not ask."""
    if filters.get("all_users") and asked_all and not c.whoami().get("admin"):  # a user sees only their own jobs
        err.print("[yellow]note:[/] every user's jobs need an admin token; these are only yours")
    recs: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        page = c.list(after=after, limit=PAGE, **filters)
        recs.extend(page)
        if len(page) < PAGE:
            return recs
        after = int(page[-1]["job_id"])
