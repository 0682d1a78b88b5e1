"""`hal prio` (sprio) and `hal shares` (sshare): why the queue is in the order it is, factor by factor."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hal.cli.common import out, plain_columns
from hal.cli.live import JsonOpt, client, emit_json

COLUMNS = ("age", "fairshare", "jobsize", "partition", "qos", "nice")


def prio(
    jobs: Annotated[str | None, typer.Option("--jobs", "-j", help="only these job ids: 12,13")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="only this user's jobs")] = None,
    weights: Annotated[bool, typer.Option("--weights", "-w", help="the configured weights (sprio -w)")] = False,
    json_out: bool = JsonOpt,
) -> None:
    """Pending jobs' priorities and the weighted factors they sum (sprio): highest first, as the queue orders
    them. Yours only, unless you are an administrator."""
    with client() as c:
        got = c.priority()
    if got["order"] != "multifactor":
        out.print(f"the queue is ordered by {got['order']}, not by multifactor priority: hal queue shows its order")
        return
    rows = got["jobs"]
    if jobs:
        wanted = {x.strip() for x in jobs.split(",") if x.strip()}
        names = {  # an array task by its id, ARRAY_TASK (as hal queue shows it) or its array's id (QA: 41_1 was none)
            r["job_id"]: {str(r["job_id"])}
            | ({f"{a}_{r['array_task_id']}", str(a)} if (a := r.get("array_job_id")) else set())
            for r in rows
        }
        rows = [r for r in rows if names[r["job_id"]] & wanted]
        if not rows:  # sprio: an error, not an empty table
            typer.echo(f"hal prio: error: no pending job matches --jobs {jobs}", err=True)
            raise typer.Exit(1)
    if user:
        rows = [r for r in rows if r["user"] == user]
    if json_out:
        emit_json({**got, "jobs": rows})
        return
    head = ("JOBID", "PARTITION", "USER", "PRIORITY", *(c.upper() for c in COLUMNS))
    lines = [["Weights", "", "", "", *(f"{got['weights'].get(c, 1):g}" for c in COLUMNS)]] if weights else []
    for r in rows if not weights else []:  # sprio -w: the weights alone
        shown = "0" if r.get("held") else shown_priority(r["priority"])  # a held job's is 0, as Slurm's
        lines.append([str(r["job_id"]), r["partition"], r["user"], shown,
                      *(_factor(r["factors"], c) for c in COLUMNS)])  # fmt: skip
    right = {h for h in head if h not in ("PARTITION", "USER")}  # plain columns: 4,000 rows took rich 5 s
    typer.echo(plain_columns(head, lines, right))


def shown_priority(priority: float) -> str:
    """A job's priority as Slurm keeps it: never below 1 (0 is a held job's), so a large nice reads 1 (QA: Nice=100000
    showed -92184); the factors beside it still sum to the unclamped value."""
    return f"{max(priority, 1.0):.0f}"


def half_life_text(seconds: float) -> str:
    """A decay half-life as Slurm's PriorityDecayHalfLife shows it: [D-]HH:MM:SS (QA: 600 s read "0.00694444 days");
    0 is no decay, as in Slurm."""
    if seconds <= 0:
        return "00:00:00 (no decay)"
    days, rest = divmod(round(seconds), 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}-{text}" if days else text


def _factor(factors: dict[str, float], name: str) -> str:
    """A column of sprio: each weighted factor, but NICE the nice value as set (the priority subtracts it)."""
    return str(round(-factors[name] if name == "nice" else factors[name]))  # an int: never "-0"


def shares(json_out: bool = JsonOpt) -> None:
    """Users' decayed CPU usage and fair-share factors (sshare): a factor near 1 means little recent use,
    0.5 exactly the user's share, lower more than it. Your own row unless you are an administrator."""
    with client() as c:
        got = c.shares()
    if json_out:
        emit_json(got)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("User", "NormShares", "RawUsage", "EffectvUsage", "FairShare"):
        table.add_column(col, justify="left" if col == "User" else "right")
    for r in got["users"]:
        table.add_row(r["user"], f"{r['norm_shares']:.6f}", f"{r['raw_usage']:.0f}", f"{r['effective_usage']:.6f}",
                      f"{r['fairshare']:.6f}")  # fmt: skip
    out.print(table)
    weights = got.get("billing_weights")
    unit = f"billed units ({weights}) x seconds" if weights else "CPU-seconds"
    half = half_life_text(float(got["half_life"]))
    out.print(f"usage is {unit} decayed with a half-life of {half} (PriorityDecayHalfLife)", style="dim")
