"""`hal simulate` and `hal compare`: replay a trace under one or several policies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from hal.atomic_write import OutputError
from hal.cli.common import err, fail, note_workload, out, progress_bar, report_problems, writable_files
from hal.cli.sim_checks import check_model_estimate, check_reserve, check_stretch_tree, note_data_plane, stretch_of
from hal.cli.sim_json import (
    SUMMARY_HELP,
    model_fallback,
    never_fitted,
    summary_dict,
    topology_dict,
    write_json,
)
from hal.cli.sim_label import run_label
from hal.cli.sim_model import fallback_name, gbm_from_file, note_fallback, note_overlap, overlap_note
from hal.cli.sim_tables import summary_table, topology_table
from hal.engine.plugins.leaf_reserve import reserve_args
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.sim.limits import KILLED_KEY, cut_at_partition_limits, limit_counts, useful_summary
from hal.sim.report import write_jobs_csv, write_jobs_swf
from hal.sim.runner import SimOptions, load, load_cluster, run_workload, unfitted_note
from hal.sim.swf import TraceError
from hal.sim.trace_notes import cancelled, window_id_note
from hal.sim.window import WINDOW_RULE, narrow_problems, parse_window, pick
from hal.sim.workload import Cleaning

LEARNERS = ("last2", "gbm", "gbm-regress")  # the estimates that learn from the runs that end
# what compare and predict-eval use
__all__ = ["fallback_name", "gbm_from_file", "note_fallback", "note_overlap", "overlap_note"]


def estimate_for(profile: Profile, estimate: str, typed: bool, name: str = "the profile") -> str:
    """The predictions to plan with: a profile that names the ones its weights were tuned on brings them,
    unless --estimate was typed (then a different one is run as asked, and said). ``name``: the profile's, in
    that note (hal compare runs several)."""
    if not profile.estimate or profile.estimate == estimate:
        return estimate
    if typed:
        err.print(
            f"[yellow]note:[/] {name}'s weights were tuned on {profile.estimate} predictions; "
            f"running with --estimate {estimate} as asked"
        )
        return estimate
    return profile.estimate


def note_segment_level(cluster: Path) -> None:
    """--segment keeps a job's node groups inside a block: on a tree without a block level, in its leaves."""
    from hal.sim.runner import load_cluster

    topology = load_cluster(cluster).topology
    if topology is not None and "block" not in topology.levels:
        err.print(
            f"[yellow]note:[/] --segment: {cluster.name}'s tree has no block level ({', '.join(topology.levels)}); "
            f"each segment is kept inside one {topology.levels[-1]} instead"
        )


def check_machine(procs: int | None, cluster: Path | None, placement: str = "firstfit") -> None:
    """The machine options of simulate, compare and tune: a processor count or a cluster file, and a node
    placement only with the latter (ValueError with the fix)."""
    if procs is not None and cluster is not None:
        raise ValueError("--procs and --cluster: the cluster file sets the machine's size; give one of them")
    if procs is not None and procs <= 0:
        raise ValueError(f"--procs must be a positive number of processors, not {procs}")
    if placement != "firstfit" and cluster is None:
        raise ValueError(f"--placement {placement} places jobs on nodes: it needs --cluster")
    Profile(placement=placement)  # names the valid placements if this one is not


def given_on_command_line(ctx: typer.Context, name: str) -> bool:
    """Typed by the user, even at its default value (`--placement firstfit` beside a profile is a conflict)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


PlacementOpt = Annotated[
    str | None,
    typer.Option(
        help="firstfit, bestfit or topology (with --cluster; default: topology, as hal server places; a cluster "
        "file without a [topology] table is one switch)"
    ),
]


def default_placement(placement: str | None, cluster: Path | None) -> str:
    """The placement asked for, else what `hal server` uses on this cluster file: topology on its tree (one switch
    when the file has no [topology] table)."""
    if placement is not None:
        return placement
    return "topology" if placement_topology_default(cluster) else "firstfit"


def placement_topology_default(cluster: Path | None) -> bool:
    """Whether a profile without a placement key places on a tree: with a cluster file that has one."""
    if cluster is None:
        return False
    from hal.sim.runner import load_cluster

    return load_cluster(cluster).topology is not None


def read_profile(path: Path, has_tree: bool) -> Profile:
    """A profile file as `hal server --profile` reads it: the keys it leaves out are the server's defaults
    (QA: one without `order` ran here as fcfs while the server ordered it by multifactor)."""
    return Profile.read(path, has_tree, base=Profile.server_default(has_tree))


def check_profile_reserve(profile: Profile, name: str, whole_nodes: bool | None) -> None:
    """A profile's topology_reserve refused where it would do nothing, as --topology-reserve is: it holds
    multi-node jobs, and trace jobs are tasks without --whole-nodes (QA: it ran silently as a no-op). ``whole_nodes``
    None: a command without that option (hal compare). ValueError."""
    if not profile.topology_reserve or whole_nodes:
        return
    need = "--whole-nodes" if whole_nodes is not None else "whole-node jobs (hal simulate --whole-nodes --profile)"
    raise ValueError(f"{name}: topology_reserve holds multi-node jobs for their fewest leaves: it needs {need}")


def applicable(profile: Profile) -> Profile:
    """A profile whose every setting changes the run: the engine ignores a backfill order outside EASY, so a
    user asking for one is told instead (the profile itself stays valid for code that sweeps combinations)."""
    profile.tuned_checked()
    if profile.backfill_order == "sjf" and profile.backfill != "easy":
        raise ValueError(
            f"backfill order 'sjf' orders EASY's candidates; it needs backfill 'easy', not {profile.backfill!r}"
        )
    return profile


def cleaning_of(min_runtime: int, drop_status: str) -> Cleaning:
    try:
        statuses = tuple(int(s) for s in drop_status.split(",") if s.strip()) if drop_status else ()
    except ValueError:
        raise fail(f"--drop-status={drop_status!r}: give SWF status numbers, e.g. 0,5") from None
    unknown = [s for s in statuses if not -1 <= s <= 5]  # QA: 99 was taken, and dropped nothing
    if unknown:
        raise fail(f"--drop-status={drop_status!r}: SWF statuses are -1 and 0 to 5 (field 11), not {unknown[0]}")
    return Cleaning(min_runtime=min_runtime, drop_status=statuses)


WINDOW_HELP = (
    f"START:COUNT of the jobs, {WINDOW_RULE} (the archive's traces number jobs in submit order); "
    "only the window's jobs run, so last2 and gbm start with nothing learned (predict-eval --window lets every "
    "earlier job teach; --model starts from a saved model)"
)
ACTUAL_HELP = (
    "actual (clairvoyant up to the request: a job that ran past its requested time is planned at its request, "
    "as the reference simulator pyss and the published clairvoyant EASY-SJBF figures do)"
)


RL_IGNORED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "--procs": lambda a: a["procs"] is not None,
    "--cluster": lambda a: a["cluster"] is not None,
    "--estimate": lambda a: a["estimate"] != "user",
    "--model": lambda a: a["model"] is not None,
    "--profile": lambda a: a["profile"] is not None,  # the setup runs a named order, not a profile's weights
    "--backfill-order": lambda a: a["backfill_order"] != "queue",
    "--placement": lambda a: a["placement"] is not None,
    "--topology-reserve": lambda a: bool(a["topology_reserve"]),
    "--whole-nodes": lambda a: a["whole_nodes"],
    "--gpus": lambda a: a["gpus"],
    "--segment": lambda a: a["segment"],
    "--stretch": lambda a: a["stretch"] or a["stretch_factors"] is not None,
    "--window": lambda a: a["window"] is not None,
    "--min-runtime": lambda a: a["min_runtime"] != 0,
    "--drop-status": lambda a: bool(a["drop_status"]),
    "--jobs-out": lambda a: a["jobs_out"] is not None,
    "--csv-out": lambda a: a["csv_out"] is not None,
}


def simulate(
    ctx: typer.Context,
    trace: Annotated[Path, typer.Argument(help="SWF trace file")],
    procs: Annotated[int | None, typer.Option(help="machine size in processors (default: trace header)")] = None,
    cluster: Annotated[Path | None, typer.Option(help="cluster description TOML (node-level placement)")] = None,
    order: Annotated[str, typer.Option(help="fcfs, sjf, wfp3, unicep, f1 or multifactor")] = "fcfs",
    backfill: Annotated[str, typer.Option(help="none, easy or conservative")] = "easy",
    backfill_order: Annotated[str, typer.Option(help="queue or sjf (EASY-SJBF)")] = "queue",
    estimate: Annotated[
        str, typer.Option(help=f"what the planner uses: user, last2, gbm, gbm-regress or {ACTUAL_HELP}")
    ] = "user",
    model: Annotated[Path | None, typer.Option(help="gbm: start from a saved model file (hal predict-eval)")] = None,
    placement: PlacementOpt = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="a profile TOML (as hal server --profile takes, e.g. from hal tune --profile-out) "
            "instead of --order, --backfill, --backfill-order, --placement and --topology-reserve"
        ),
    ] = None,
    topology_reserve: Annotated[
        str,
        typer.Option(
            help="with --placement topology: leaf-aware EASY reservation, KEY=VALUE,... of wait (s a blocked "
            "multi-node head may be held for its fewest leaves), depth (jobs planned), strict (s backfill only "
            "into the fewest leaves, inf: always), nodes (1: node-specific reservation, 0: EASY's own check); "
            "needs --whole-nodes"
        ),
    ] = "",
    whole_nodes: Annotated[
        bool, typer.Option(help="with --cluster: each job takes ceil(procs / node CPUs) exclusive whole nodes")
    ] = False,
    gpus: Annotated[
        bool,
        typer.Option(
            "--gpus",
            help="with --cluster: each trace processor is a GPU (the AI traces); a job larger than a node "
            "takes ceil(GPUs / node GPUs) nodes",
        ),
    ] = False,
    segment: Annotated[
        bool,
        typer.Option(
            "--segment",
            help="with --gpus and --placement topology: a multi-node job asks --segment=<its nodes> when they fit in "
            "one block, else the largest divisor of its node count that does (none when only 1 does, e.g. a prime "
            "count above a block)",
        ),
    ] = False,
    stretch: Annotated[
        bool,
        typer.Option(
            "--stretch",
            help="with --cluster on a tree: a job runs longer the higher its nodes span (x1.20 per level crossed "
            "for half the jobs, the communication-heavy ones, x1.03 for the rest); utilization counts the trace's "
            "work, bsld the stretch as slowdown",
        ),
    ] = False,
    stretch_factors: Annotated[
        str | None,
        typer.Option(
            metavar="SPEC",
            help="--stretch with these factors: heavy=F[/F...],light=F[/F...],share=S; F is the share a job runs "
            "longer per level crossed, 0 to 100 (0.2: 20% longer, x1.20; level 2, 3, ..., the last repeating; share: "
            "of communication-heavy jobs, 0 to 1)",
        ),
    ] = None,
    window: Annotated[str | None, typer.Option(help=WINDOW_HELP)] = None,
    setup: Annotated[str | None, typer.Option(help="a published setup to reproduce: rlscheduler")] = None,
    min_runtime: Annotated[int, typer.Option(help="drop jobs that ran less than this (s)")] = 0,
    drop_status: Annotated[str, typer.Option(help="comma-separated SWF statuses to drop, e.g. 0,5")] = "",
    jobs_out: Annotated[Path | None, typer.Option(help="per-job SWF, field 3 = simulated wait")] = None,
    csv_out: Annotated[Path | None, typer.Option(help="per-job CSV")] = None,
    summary_out: Annotated[Path | None, typer.Option(help=SUMMARY_HELP)] = None,
) -> None:
    """Replay a trace through HAL's engine on a virtual clock and report wait, slowdown and utilization."""
    given = dict(locals())
    writable_files(jobs_out, csv_out, summary_out, inputs=(trace, cluster, profile, model))
    if setup is not None:
        from hal.cli.rlsetup import run_rlscheduler

        ignored = [name for name, used in RL_IGNORED.items() if used(given)]
        if ignored:  # the published setup fixes these: refused rather than silently dropped
            raise fail(
                f"--setup {setup} fixes the machine, window and estimates and takes only --order and --backfill; "
                f"drop {', '.join(ignored)}"
            )
        run_rlscheduler(trace, setup, order, backfill, summary_out)
        return
    try:
        if not topology_reserve.strip() and given_on_command_line(ctx, "topology_reserve"):  # '' ran none (QA)
            reserve_args(topology_reserve)  # refused as lacking wait=, as every other value without it
        check_reserve(topology_reserve, whole_nodes)
        check_machine(procs, cluster, placement or "firstfit")
        placement = default_placement(placement, cluster)
        if (stretch or stretch_factors is not None) and cluster is None:
            raise ValueError("--stretch lengthens jobs by the levels of the tree their nodes span: it needs --cluster")
        spec, stretch_model = stretch_of(stretch, stretch_factors)
        check_stretch_tree(stretch_model, cluster)
        note_data_plane(cluster)
        make_predictor(estimate)  # names the valid estimates, before the trace is read
        span = parse_window(window) if window else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    if min_runtime < 0:
        raise fail(f"--min-runtime must be >= 0 seconds, not {min_runtime}")
    policy = {"order": order, "backfill": backfill, "backfill_order": backfill_order, "placement": placement,
              "topology_reserve": topology_reserve}  # fmt: skip
    if profile is not None:
        fixed = [f"--{k.replace('_', '-')}" for k in policy if given_on_command_line(ctx, k)]
        if fixed:
            raise fail(f"--profile sets the policy; drop {', '.join(fixed)} or put it in the profile")
    try:
        chosen = (
            read_profile(profile, placement_topology_default(cluster))
            if profile is not None
            else Profile(order, backfill, backfill_order, placement, topology_reserve=topology_reserve)
        )
        check_profile_reserve(chosen, str(profile), whole_nodes)
        typed = given_on_command_line(ctx, "estimate")
        asked = estimate = estimate_for(chosen, estimate, typed)  # a profile's own estimate applies before --model's
        if model is not None:
            source = "--estimate" if typed else str(profile) if chosen.estimate else "default"
            check_model_estimate(estimate, source)
    except ValueError as exc:
        raise fail(str(exc)) from None
    predictor = None
    if model is not None:
        predictor, estimate = gbm_from_file(model, estimate)  # the note: once the window's jobs are known
    try:
        opts = SimOptions(
            profile=applicable(chosen),
            estimate=estimate,
            predictor=predictor,
            procs=procs,
            cluster=cluster,
            window=span,
            cleaning=cleaning_of(min_runtime, drop_status),
            whole_nodes=whole_nodes,
            gpus=gpus,
            segment=segment,
            stretch=stretch_model,
        )
        swf, workload = load(trace, opts)
    except (TraceError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if span is not None:  # the window's unreadable lines only, counted and listed as its skips (QA)
        outside = narrow_problems(swf, pick(swf, *span))
        workload.notes += [note for note in (outside, window_id_note(swf, str(window))) if note]
    report_problems([*swf.problems, *workload.skipped])
    note_workload(workload)
    cancels = cancelled(swf) if asked in LEARNERS else None  # what its predictions learn of cancelled runs
    if cancels:
        err.print(f"[yellow]note:[/] {cancels}")
    note_overlap(predictor, workload.jobs, swf)
    cut = cut_at_partition_limits(workload, load_cluster(cluster)) if cluster is not None else frozenset()
    if segment and cluster is not None:
        note_segment_level(cluster)
    if not workload.jobs:
        raise fail(f"{trace}: no usable jobs")
    try:
        with progress_bar(f"simulating {trace.name}", len(workload.jobs)) as bar:
            result = run_workload(swf, workload, opts, bar)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    result.summary = useful_summary(result, cut, whole_nodes)  # jobs killed at a partition's limit: work lost
    report_problems(list(result.outcome.rejected), "rejected at submission")
    label = run_label(
        opts.profile, estimate, cluster, whole_nodes=whole_nodes, gpus=gpus, segment=segment, stretch=spec
    )  # fmt: skip
    out.print(
        summary_table(
            [(label, result.summary)], f"{trace.name} on {result.outcome.capacity} {'GPUs' if gpus else 'processors'}"
        )
    )
    if spec is not None:  # the stretch pushed these past their --time: killed there, their work lost
        killed = result.summary.killed_by_stretch
        out.print(f"killed by stretch: {killed:,} job(s) at their --time (TIMEOUT; util leaves out their work)")
    counts = limit_counts(result, cut)
    if cut:
        out.print(
            f"killed at partition limit: {counts[KILLED_KEY]:,} job(s) ran past their partition's max_time, killed "
            "there (TIMEOUT; util leaves out their work)"
        )
    if result.topology is not None:
        out.print(topology_table(result.topology))
    data: dict[str, Any] = {"trace": str(trace), "policy": label, **summary_dict(result.summary), **counts}
    if unfit := never_fitted(result.predictor) or model_fallback(model, estimate, asked):
        data["fallback"] = unfit  # said on stderr too, but scripts read the file
    if result.topology is not None:
        data["topology"] = topology_dict(result.topology)
    try:  # each whole or not at all: a full disk gave a traceback and a cut-off file (QA)
        if jobs_out:
            write_jobs_swf(jobs_out, swf, result.outcome, note=label, timed_out=cut)
        if csv_out:
            write_jobs_csv(csv_out, result.outcome, swf, result.names, result.index)
        if summary_out:
            write_json(summary_out, data)
    except OutputError as exc:
        raise fail(str(exc)) from None
    left = len(swf.problems) + len(workload.skipped) + len(result.outcome.rejected)
    if left:
        err.print(f"{left} job(s) skipped or rejected; the rest of the trace ran")
    note_fallback(estimate, asked)
    unfitted = unfitted_note(result, estimate)
    if unfitted:
        err.print(f"[yellow]note:[/] {unfitted}")
