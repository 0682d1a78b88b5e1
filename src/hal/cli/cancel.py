"""`hal cancel`: scancel for HAL; a user may cancel only their own jobs, admins any."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hal.cli.common import err, fail, out
from hal.cli.history import every_job
from hal.cli.live import JsonOpt, client, emit_json, parse_states
from hal.cli.queue_select import unknown_user, user_names
from hal.client import HalError

NOT_ENDED = ("PENDING", "RUNNING", "STAGE_OUT")  # what a cancel acts on; STAGE_OUT: its outputs being copied out


def cancel(
    jobs: Annotated[list[str] | None, typer.Argument(help="job ids: 12, an array 12, or one task 12_3")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="every job of this user not yet ended")] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="only jobs of this name")] = None,
    state: Annotated[
        str | None, typer.Option("--state", "-t", help="only jobs in this state: PENDING, RUNNING or STAGE_OUT")
    ] = None,
    me: Annotated[bool, typer.Option("--me", help="your own jobs")] = False,
    signal: Annotated[
        str | None, typer.Option("--signal", "-s", help="send this signal (USR1, 10) instead of cancelling")
    ] = None,
    batch: Annotated[bool, typer.Option("--batch", "-b", help="with -s: the batch shell and what it started")] = False,
    full: Annotated[bool, typer.Option("--full", "-f", help="with -s: every process of the job")] = False,
    json_out: bool = JsonOpt,
) -> None:
    """Cancel pending jobs at once and running ones with SIGTERM, then SIGKILL after the grace period; a job in
    STAGE_OUT (SO) has its stage-out stopped and ends CANCELLED, its outputs unpublished. With
    -u/--me, -n or -t (and no ids) every matching job that has not ended, as scancel does. With -s SIG, running
    jobs get that signal and go on (by default their steps, i.e. what the script started, not the script)."""
    if (batch or full) and signal is None:
        raise fail("-b/--batch and -f/--full go with -s/--signal")
    filtered = user is not None or name is not None or state is not None or me
    if not jobs and not filtered:
        raise fail("give job ids, or select jobs with -u USER, --me, -n NAME or -t STATE")
    done: dict[str, list[int]] = {}
    failed: dict[str, str] = {}
    with client() as c:
        targets = list(jobs or [])
        if filtered:
            targets = _matching(c, targets, user, name, state, me)
            if not targets:
                out.print("hal cancel: no job matches", highlight=False)
        if signal is None and filtered:  # scancel -u: one request per thousand jobs, not one per task
            for i in range(0, len(targets), 1000):
                cancelled, refused = c.cancel_many(targets[i : i + 1000])
                done.update(cancelled)
                failed.update(refused)
        else:
            for job in targets:  # each on its own, as scancel: one that cannot be cancelled is not a stop
                try:
                    done[job] = c.cancel(job) if signal is None else c.signal(job, signal, batch, full)
                except HalError as exc:
                    if exc.status == 0:  # no server: nothing further can be done
                        raise
                    failed[job] = str(exc)
    if json_out:
        emit_json({"cancelled" if signal is None else "signalled": done, "failed": failed})
    else:
        for job, ids in done.items():
            if not ids:
                out.print(f"hal cancel: job {job} has already finished", highlight=False)
        for job, why in failed.items():
            err.print(f"hal cancel: job {job}: {why}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)


def _matching(c: Any, ids: list[str], user: str | None, name: str | None, state: str | None, me: bool) -> list[str]:
    """The ids of the jobs not ended yet that every given filter selects (and, with ids, among those)."""
    api, keep = parse_states(state or ",".join(NOT_ENDED))  # scancel -u: a job in SO too (its stage-out stops)
    if keep is not None and keep - {*NOT_ENDED, "CONFIGURING"}:
        raise fail(f"-t {state}: only jobs that have not ended can be cancelled ({', '.join(NOT_ENDED)})")
    mine = c.whoami()["user"] if me or user is not None else ""
    who = mine if me else _user(c, user, mine)
    rows = every_job(c, state=api, user=who, all_users=who is not None and not me)
    picked = [r for r in rows if (name is None or r["name"] == name) and (who is None or r["user"] == who)]
    wanted = set(ids)
    return [
        str(r["id"]) for r in picked if not wanted or str(r["id"]) in wanted or str(r.get("array_job_id")) in wanted
    ]


def _user(c: Any, user: str | None, mine: str) -> str | None:
    """-u NAME or a uid, as scancel: a name no local account and no HAL user has is an error, exit 1 (it said
    "no job matches" and exited 0, QA)."""
    if user is None:
        return None
    try:
        (name,) = user_names(user)
    except ValueError as exc:  # a uid with no account, or a list: scancel -u takes one user
        raise fail(f"Invalid user name: {user}" if "," in user else str(exc).replace("user", "user name"), 1) from None
    if name != mine and unknown_user([name], {mine} | {u["user"] for u in c.shares().get("users", [])}):
        raise fail(f"Invalid user name: {name}", 1)
    return name
