"""`hal queue`: squeue's columns, with the pending reason and, with --start, the forecast start (p50, p90)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from hal.cli import queue_select, squeue_format, squeue_request_codes
from hal.cli.common import err, fail, plain_columns
from hal.cli.history import every_job
from hal.cli.live import JsonOpt, client, duration, emit_json, num_nodes, whole_elapsed
from hal.executors.hostlist import ranges

ACTIVE = ("RUNNING", "CONFIGURING", "COMPLETING", "STAGE_OUT")  # shown with their nodes; squeue lists SO too


def queue_table(jobs: list[dict[str, Any]], start: bool = False, node_cpus: int = 0, header: bool = True) -> str:
    """squeue's default columns as plain text, two spaces apart (rich measured every cell: 2,000 jobs took 7 s).
    ``node_cpus``: the largest node's CPUs, so a pending job without -N shows the fewest nodes it needs. With
    ``start``, squeue --start's columns in its order (scripts read START_TIME as the 6th field), and HAL's
    START_P90 last: half of the forecasts start by START_TIME, 90% by START_P90."""
    cols = ["JOBID", "PARTITION", "NAME", "USER", "ST"]
    cols += ["START_TIME", "NODES", "SCHEDNODES"] if start else ["TIME", "NODES"]
    rows = []
    for j in jobs:
        where = squeue_format.where(j)  # the nodes (SO too, as R), or (reason) for a pending or failed job
        row = [str(j["id"]), j["partition"], j["name"][:20], j["user"], squeue_format.SHORT.get(j["state"], j["state"])]
        if start:  # as squeue's %S: N/A without an expected start; %Y: the nodes the planner holds for it
            row += [squeue_format.when(squeue_format.start_of(j)), str(num_nodes(j, node_cpus))]
            row += [squeue_format.sched_nodes(j), where, squeue_format.when(j.get("predicted_start_p90"))]
        else:
            row += [duration(whole_elapsed(j)), str(num_nodes(j, node_cpus)), where]
        rows.append(row)
    cols += ["NODELIST(REASON)", "START_P90"] if start else ["NODELIST(REASON)"]
    text = plain_columns(cols, rows, {"JOBID", "TIME", "NODES", "START_TIME", "START_P90"})
    return text if header else text.partition("\n")[2]  # the widths with the header, as squeue's are fixed


def forecast_note(jobs: list[dict[str, Any]]) -> str | None:
    """Said under the listing when some jobs' start forecasts are still being made in the background (the server
    waits at most 2 s for them): their N/A, or planner's start, is not the forecast, and asking again shows it."""
    n = sum(1 for j in jobs if j.get("forecast_pending"))
    if not n:
        return None
    what = "the start forecast for 1 job is" if n == 1 else f"start forecasts for {n} jobs are"
    return f"{what} still being computed; run again in a few seconds"


def collapse_arrays(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """squeue's view of an array: its pending tasks that wait for the same reason as one line, 12_[3-99]
    (a 200-task array was 200 lines); running tasks keep their own lines, and so do pending tasks Slurm has
    split into their own job records: one updated, held or released by itself, or one that ran and was
    requeued. ``-r`` shows every task."""
    out: list[dict[str, Any]] = []
    tasks: dict[tuple[Any, Any], list[int]] = {}  # (array, reason) -> its pending task ids, on the first one's line
    lines: dict[tuple[Any, Any], dict[str, Any]] = {}  # (array, reason) -> that line
    for j in jobs:
        key = (j.get("array_job_id"), j.get("reason"))
        if j["state"] != "PENDING" or key[0] is None or j.get("array_split") or j.get("restarts"):
            out.append(j)
        elif key in tasks:
            tasks[key].append(j["array_task_id"])
        else:
            tasks[key] = [j["array_task_id"]]
            lines[key] = dict(j)
            out.append(lines[key])
    for key, ids in tasks.items():
        if len(ids) > 1:
            lines[key]["id"] = f"{key[0]}_{ranges(ids)}"
    return out


def in_queue_order(job: dict[str, Any]) -> tuple[int, float, int]:
    """Running jobs, then the queue in the scheduler's order, then the jobs it holds back (a dependency, a
    --begin time, an array's %limit) by their forecast start, and held jobs last."""
    place = job.get("queue_position")
    if job["state"] != "PENDING":
        return (0, 0.0, job["job_id"])
    if place:
        return (1, float(place), job["job_id"])
    if str(job.get("reason", "")).startswith("JobHeld"):
        return (3, 0.0, job["job_id"])
    return (2, float(job.get("predicted_start") or float("inf")), job["job_id"])


def queue(
    user: Annotated[
        str | None,
        typer.Option("--user", "--users", "-u", help="only these users' jobs: a,b, or uids"),
    ] = None,
    all_users: Annotated[
        bool, typer.Option("--all", "-a", help="every user's jobs (an admin's default; users see their own)")
    ] = False,
    state: Annotated[str | None, typer.Option("--states", "-t", help="e.g. PENDING,RUNNING")] = None,
    partition: Annotated[str | None, typer.Option("--partition", "--partitions", "-p")] = None,
    start: Annotated[
        bool,
        typer.Option(
            "--start",
            help="pending jobs by forecast start: squeue --start's JOBID PARTITION NAME USER ST START_TIME NODES "
            "SCHEDNODES NODELIST(REASON), then START_P90 (START_TIME is the p50); -t, -S, -o still apply",
        ),
    ] = False,
    jobs_only: Annotated[
        str | None, typer.Option("--jobs", "--job", "-j", help="only these job ids: 12,13_2 (12.0: job 12)")
    ] = None,
    names: Annotated[str | None, typer.Option("--name", "-n", help="only jobs of these names: a,b")] = None,
    nodelist: Annotated[
        str | None,
        typer.Option("--nodelist", "--nodes", "--node", "-w", help="only jobs running on these nodes: vn[000-001]"),
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", "--accounts", "-A", help="only jobs of these accounts: a,b")
    ] = None,
    qos: Annotated[str | None, typer.Option("--qos", "-q", help="only jobs of these QOS: a,b")] = None,
    me: Annotated[bool, typer.Option("--me", help="only your own jobs")] = False,
    fmt: Annotated[str | None, typer.Option("--format", "-o", help="squeue codes, e.g. '%.18i %.2t %R'")] = None,
    long_fmt: Annotated[
        str | None, typer.Option("--Format", "-O", help="squeue field names, e.g. 'JobID:10,Name:30,State'")
    ] = None,
    sort: Annotated[str | None, typer.Option("--sort", "-S", help="squeue sort keys, e.g. '-t,S' or 'u,-i'")] = None,
    noheader: Annotated[bool, typer.Option("--noheader", "-h", help="no header line (and no summary)")] = False,
    every_task: Annotated[bool, typer.Option("--array", "-r", help="one line per array task")] = False,
    array_unique: Annotated[
        bool, typer.Option("--array-unique", help="each pending array task on its own line (no 12_[3-99])")
    ] = False,
    long: Annotated[bool, typer.Option("--long", "-l", help="squeue -l: STATE in full and TIME_LIMIT")] = False,
    iterate: Annotated[
        int | None, typer.Option("--iterate", "-i", help="list again every N seconds until interrupted")
    ] = None,
    steps: Annotated[bool, typer.Option("--steps", "-s", help="squeue -s: HAL records no job steps")] = False,
    step_ids: Annotated[list[str] | None, typer.Argument(hidden=True, help="-s's step ids: 12.0")] = None,
    clusters: Annotated[
        str | None, typer.Option("--clusters", "--cluster", "-M", help="this server's cluster (HAL serves one)")
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="say the options used, on stderr")] = 0,
    _hide: Annotated[bool, typer.Option("--hide", help="accepted: HAL has no hidden partitions")] = False,
    _local: Annotated[bool, typer.Option("--local", help="accepted: HAL has no federation")] = False,
    json_out: bool = JsonOpt,
) -> None:
    """Jobs that are waiting or running (an admin sees everyone's, as squeue shows them; a user their own, as
    under PrivateData=jobs; --me: your own), and a summary of the whole queue."""
    o = queue_select.from_env(dict(locals()))  # SQUEUE_FORMAT, SQUEUE_SORT, ... for options not given
    user, state, partition, names, account, qos = (
        o[k] for k in ("user", "state", "partition", "names", "account", "qos")
    )
    fmt, long_fmt, sort, every_task, array_unique = (
        o[k] for k in ("fmt", "long_fmt", "sort", "every_task", "array_unique")
    )
    if fmt is not None and long_fmt is not None:
        raise fail("give one of -o/--format and -O/--Format")
    if iterate is not None and iterate <= 0:
        raise fail(f"--iterate={iterate}: a number of seconds above 0", 1)
    if verbose:
        err.print(f"options: {o}", style="dim", markup=False, highlight=False)
    if step_ids and not steps:
        raise fail(f"Unrecognized option: {step_ids[0]}", 1)
    if steps:  # squeue -s's columns, with no rows
        if not noheader:
            typer.echo(squeue_format.render("%.15i %.8j %.9P %.8u %.9M %N", None).replace("JOBID", "STEPID"))
        err.print("HAL records no job steps (srun inside a job runs in its allocation): none to list", style="dim")
        return
    # squeue -l -o F: F's columns; --start -l: --start's (squeue sets its format before -l's default), dated
    fmt = LONG_FORMAT if long and not start and fmt is None and long_fmt is None else fmt
    if start:  # squeue --start: --states=PENDING --sort=S, unless -t or -S say otherwise
        state, sort = state if state is not None else "PENDING", sort if sort is not None else "S"
    try:
        ids = queue_select.parse_job_ids(jobs_only) if jobs_only is not None else None
        users = queue_select.user_names(user) if user is not None else None
    except ValueError as exc:
        raise fail(str(exc), 1) from None  # squeue -j abc: "Invalid job id: abc"; -u 99999: "Invalid user", exit 1
    try:
        on = queue_select.parse_nodes(nodelist) if nodelist is not None else None
        fmt = squeue_format.from_long(long_fmt) if long_fmt is not None else fmt
        if fmt is not None:
            squeue_format.check(fmt)
        if sort is not None:
            squeue_format.sort_jobs([], sort)  # checks the keys before asking the server
    except ValueError as exc:
        raise fail(str(exc)) from None
    codes = _codes(fmt or "")
    forecast = start or "S" in codes or "S" in (sort or "")  # %S, -S S: the forecast start too
    states, keep = queue_select.parse_states(state or ",".join(["PENDING", *ACTIVE]))
    ended = keep is None or bool(keep - {"PENDING", *ACTIVE})  # -t all (keep None): ended jobs too, 5 minutes' worth
    accounts, qoses = queue_select.parse_list(account), queue_select.parse_list(qos)  # once, not per job
    wanted_names = queue_select.parse_names(names) if names is not None else None

    def once() -> None:
        """One listing (-i repeats it)."""
        nonlocal users
        with client() as c:
            view = c.nodes()
            if clusters is not None:
                wrong = queue_select.other_cluster(clusters, str(view.get("cluster", "")))
                if wrong:
                    raise fail(wrong, 1)
                if not noheader:  # as squeue -M heads each cluster's listing
                    typer.echo(f"CLUSTER: {view.get('cluster', '')}")
            known = {p["name"] for p in view["partitions"]}
            for name in (partition or "").split(","):  # squeue -p a,b
                if name.strip() and name.strip() not in known:
                    raise fail(f"invalid partition name {name.strip()!r}")
            node_cpus = max((int(n.get("cpus", 0)) for n in view.get("nodes", [])), default=0)
            # ended jobs stay in the queue's view for 5 minutes, as squeue shows them (MinJobAge=300); with -j, that
            # whole view, to tell an id the queue does not hold (an error, as squeue's) from one -t leaves out
            since = time.time() - 300.0 if ended or ids else None
            everyone = all_users or (users is None and not me)  # squeue: every user's jobs for an admin
            mine: str = c.whoami()["user"] if me or users is not None else ""  # one request for both uses
            if me:
                users = [mine]
            elif users is not None and not set(users) <= {mine}:
                found = {mine} | {u["user"] for u in c.shares().get("users", [])}
                bad = queue_select.unknown_user(users, found)
                if bad:
                    raise fail(bad, 1)
            jobs = every_job(
                c, all_users, state=None if ids else states, all_users=everyone and users is None,
                user=",".join(users) if users else None, partition=partition, since=since, start=forecast or None,
                **({"detail": True} if codes & squeue_request_codes.DETAIL else {}),
            )  # fmt: skip
            queue_select.shown_states(jobs)  # a job being stopped: CG, as -t and every column read it
            summary = c.summary()
            keys = {k.strip().lstrip("+-") for k in (sort or "").split(",")}
            wants = json_out or bool(codes & {"Q", "p"}) or bool(keys & {"p", "Q"})  # %Q, %p, -S p: as sprio's
            ranks = {p["job_id"]: round(p["priority"]) for p in c.priority()["jobs"]} if wants else {}
        if ids:
            jobs = [j for j in jobs if queue_select.wanted(j, ids)]
            if not jobs:  # none of the ids is in the queue's view
                raise fail(queue_select.UNKNOWN_IDS, 1)
        jobs = [j for j in jobs if keep is None or j["state"] in keep]
        jobs = [j for j in jobs if queue_select.in_list(j.get("account"), accounts)]  # squeue -A
        jobs = [j for j in jobs if queue_select.in_list(j.get("qos"), qoses)]  # squeue -q
        if wanted_names is not None:  # squeue -n
            jobs = [j for j in jobs if queue_select.named(j, wanted_names)]
        if on is not None:  # squeue -w
            jobs = [j for j in jobs if queue_select.on_nodes(j, on)]
        show(jobs, summary, ranks, node_cpus)

    def show(jobs: list[dict[str, Any]], summary: dict[str, Any], ranks: dict[int, int], node_cpus: int) -> None:
        for j in jobs:  # %D, -S D and NODES agree with hal show's NumNodes
            j["num_nodes"] = num_nodes(j, node_cpus)
            j["priority"] = ranks.get(j["job_id"])
        jobs.sort(key=in_queue_order)
        if sort is not None:
            jobs = squeue_format.sort_jobs(jobs, sort)
        if json_out:  # each pending job's forecast_pending says it
            emit_json({"jobs": jobs, "summary": summary, "time": time.time()})
            return
        note = forecast_note(jobs)  # counted per task, before arrays are collapsed
        if not (every_task or array_unique):
            jobs = collapse_arrays(jobs)
        if fmt is not None:  # plain lines, for scripts: `hal queue -h -j $J -o %T`
            lines = [squeue_format.render(fmt, None)] if not noheader else []
            for line in lines + [squeue_format.render(fmt, j) for j in jobs]:
                typer.echo(line)
            if note:  # on stderr: scripts read the lines
                err.print(note, style="dim")
            return
        if jobs or not noheader:
            typer.echo(queue_table(jobs, start, node_cpus, header=not noheader))
        if note:  # on stderr, as the summary: stdout is squeue's table alone (`hal queue | wc -l` counts as squeue's)
            err.print(note, style="dim")
        if not noheader:
            out = f", {summary['staging_out']} staging out (SO)" if summary.get("staging_out") else ""
            out = (f", {summary['completing']} completing (CG)" if summary.get("completing") else "") + out
            htc = f"; HTC sessions hold {summary.get('htc_slots')} slot(s), {summary.get('htc_cpus')} CPU(s)"
            err.print(
                f"cluster: {summary['pending']} pending, {summary['running']} running{out}, {summary['users']} user(s)"
                + (htc if summary.get("htc_slots") else ""),
                style="dim",
            )

    # as squeue heads -i, -v and -l listings; --json's output is the JSON alone (-l put the date before it)
    dated = not noheader and not json_out and (iterate is not None or verbose or long)
    if iterate is None:
        if dated:
            typer.echo(time.ctime())
        once()
        return
    try:  # squeue -i: the date, the listing and a blank line, every N seconds until interrupted
        while True:
            if dated:
                typer.echo(time.ctime())
            once()
            typer.echo("")
            time.sleep(iterate)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


LONG_FORMAT = "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R"  # squeue --long's columns


def _codes(fmt: str) -> set[str]:
    return {m.group(3) for m in squeue_format.CODE.finditer(fmt)}
