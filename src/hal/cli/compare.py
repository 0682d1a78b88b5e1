"""`hal compare`: several policies on one trace, one table, and PNG plots. Each policy runs as `hal simulate`
would run it alone: a profile file brings the estimate it was tuned on, and every row says its estimate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from hal.atomic_write import OutputError
from hal.cli.common import (
    err,
    fail,
    note_workload,
    out,
    progress_bar,
    report_problems,
    writable_files,
    writable_folder,
)
from hal.cli.sim_checks import note_data_plane
from hal.cli.sim_json import model_fallback, never_fitted, summary_dict, topology_dict, write_json
from hal.cli.sim_tables import summary_table, topology_table
from hal.cli.simulate import (
    ACTUAL_HELP,
    WINDOW_HELP,
    applicable,
    check_machine,
    check_profile_reserve,
    cleaning_of,
    default_placement,
    estimate_for,
    gbm_from_file,
    note_fallback,
    note_overlap,
    placement_topology_default,
    read_profile,
)
from hal.engine.predict.registry import GBM_NAMES, make_predictor
from hal.engine.profile import Profile
from hal.sim.limits import KILLED_KEY, cut_at_partition_limits, limit_counts, useful_summary
from hal.sim.runner import SimOptions, SimRun, load, load_cluster, machine, run_workload, unfitted_note
from hal.sim.swf import TraceError
from hal.sim.trace_notes import window_id_note
from hal.sim.window import parse_window

DEFAULT_POLICIES = "easy:fcfs,easy:fcfs:sjf,conservative:fcfs,none:fcfs,easy:sjf,easy:f1"


def compare(
    trace: Annotated[Path, typer.Argument(help="SWF trace file")],
    policies: Annotated[
        str,
        typer.Option(
            help="comma-separated BACKFILL:ORDER[:sjf] policies or profile TOML files (hal tune)  [default: "
            + DEFAULT_POLICIES.replace(",", ", ")
            + "]",
            show_default=False,
        ),
    ] = DEFAULT_POLICIES,
    estimate: Annotated[
        str | None,
        typer.Option(
            help=f"every policy's: user, last2, gbm, gbm-regress or {ACTUAL_HELP}  [default: user; a profile "
            "file's own estimate (hal tune writes it) for that profile]",
            show_default=False,
        ),
    ] = None,
    procs: Annotated[int | None, typer.Option(help="machine size (default: trace header)")] = None,
    cluster: Annotated[Path | None, typer.Option(help="cluster description TOML")] = None,
    placement: Annotated[
        str | None,
        typer.Option(
            help="firstfit, bestfit or topology (with --cluster) for the BACKFILL:ORDER policies (default: topology "
            "with a cluster file, as hal server places; a file without a [topology] table is one switch)"
        ),
    ] = None,
    gpus: Annotated[
        bool, typer.Option("--gpus", help="with --cluster: each trace processor is a GPU (the AI traces)")
    ] = False,
    window: Annotated[str | None, typer.Option(help=WINDOW_HELP)] = None,
    min_runtime: Annotated[int, typer.Option(help="drop jobs that ran less than this (s)")] = 0,
    model: Annotated[
        Path | None,
        typer.Option(help="gbm: start the runs that plan with gbm or gbm-regress from this saved model file"),
    ] = None,
    plots: Annotated[Path | None, typer.Option(help="folder for PNG plots")] = Path("hal-compare"),
    no_plots: Annotated[bool, typer.Option("--no-plots", help="write no PNG plots")] = False,
    summary_out: Annotated[Path | None, typer.Option(help="all summaries as JSON (hal simulate's keys)")] = None,
) -> None:
    """Run several policies on the same trace and compare them side by side."""
    typed = estimate is not None  # a profile's own estimate gives way only to one asked for
    estimate = estimate or "user"
    files = tuple(
        Path(n.strip()) for n in policies.split(",") if n.strip().endswith(".toml") or Path(n.strip()).is_file()
    )
    writable_files(summary_out, inputs=(trace, cluster, model, *files))
    if no_plots:
        if plots != Path("hal-compare"):
            raise fail("--plots and --no-plots: give one of them")
        plots = None
    writable_folder(plots)
    try:
        check_machine(procs, cluster, placement or "firstfit")
        placement = default_placement(placement, cluster)
        note_data_plane(cluster)
        make_predictor(estimate)  # names the valid estimates if this one is not
        names = [p.strip() for p in policies.split(",") if p.strip()]
        profiles = [(name, applicable(policy_of(name, placement, cluster))) for name in names]
        for name, profile in profiles:  # compare runs the trace's jobs as tasks: no multi-node job to hold
            check_profile_reserve(profile, name, None)
        if not profiles:
            raise ValueError("--policies names no policy (e.g. easy:fcfs,easy:sjf)")
        same = [(a, b) for i, (a, pa) in enumerate(profiles) for b, pb in profiles[i + 1 :] if pa == pb]
        if same:
            raise ValueError(f"--policies names one policy twice: {same[0][0]} and {same[0][1]}")
        # each policy's estimate as hal simulate --profile picks it: a tuned profile's own, unless one is typed (QA)
        asked = {label: estimate_for(profile, estimate, typed, label) for label, profile in profiles}
        if model is not None:  # the model plans the gbm policies; refused only when none is one (QA)
            check_model_policies(profiles, asked, typed)
        base = SimOptions(
            estimate=estimate,
            procs=procs,
            cluster=cluster,
            gpus=gpus,
            window=parse_window(window) if window else None,
            cleaning=cleaning_of(min_runtime, ""),
        )
        swf, workload = load(trace, base)
    except (TraceError, ValueError) as exc:
        raise fail(str(exc)) from exc
    report_problems([*swf.problems, *workload.skipped])
    ids_note = window_id_note(swf, window) if window else None  # a window counts ids: said when not submit order
    workload.notes += [ids_note] if ids_note else []
    note_workload(workload)
    if not workload.jobs:
        raise fail(f"{trace}: no usable jobs")
    span = workload.jobs[-1].submit_time - workload.jobs[0].submit_time
    learners = sorted({e for e in asked.values() if e in GBM_NAMES})
    predictor, est = gbm_from_file(model, learners[0] if len(learners) == 1 else None) if model else (None, "")
    note_overlap(predictor, workload.jobs, swf)  # against the jobs that run: a --window's first, not the trace's (QA)
    cut = cut_at_partition_limits(workload, load_cluster(cluster)) if cluster is not None else frozenset()
    ests = dict(asked)
    if model is not None:  # the model's name, or its fallback's, where it plans
        ests = {label: est if e in GBM_NAMES else e for label, e in asked.items()}
        others = [f"{label} (est={e})" for label, e in asked.items() if e not in GBM_NAMES]
        if others:
            err.print(f"[yellow]note:[/] --model plans only the policies that use gbm; not {', '.join(others)}")
    options = [
        (
            label,
            SimOptions(
                profile=profile,
                estimate=ests[label],
                predictor=predictor if asked[label] in GBM_NAMES else None,
                procs=procs,
                cluster=cluster,
                gpus=gpus,
                window=base.window,
                cleaning=base.cleaning,
                sample_every=max(span / 400, 1.0),
            ),
        )
        for label, profile in profiles
    ]
    for label, opts in options:  # every policy's machine and order built first: a bad one found before any run
        try:
            machine(workload, opts)
            opts.profile.make_order()
        except ValueError as exc:
            raise fail(f"{label}: {exc}") from exc
    runs: list[tuple[str, SimRun]] = []
    for label, opts in options:
        try:
            with progress_bar(label, len(workload.jobs)) as bar:
                run = run_workload(swf, workload, opts, bar)
        except ValueError as exc:
            raise fail(f"{label}: {exc}") from exc
        run.summary = useful_summary(run, cut, False)  # killed at a partition's max_time: work lost, as simulate
        runs.append((label, run))
    rows = [(f"{label} est={ests[label]}", r) for label, r in runs]  # rows may differ: each says its own
    out.print(summary_table([(row, r.summary) for row, r in rows], trace.name))
    if cut:
        said = ", ".join(f"{label} {limit_counts(r, cut)[KILLED_KEY]:,}" for label, r in runs)
        out.print(f"killed at partition limit (past their partition's max_time; util leaves out their work): {said}")
    for label, r in runs:
        if r.topology is not None:
            out.print(topology_table(r.topology, label))
    if plots is not None:
        from hal.sim.plots import plot_comparison

        try:
            written = plot_comparison(rows, plots, trace.name)
        except OutputError as exc:  # a full disk: one line, no cut-off PNG (QA)
            raise fail(str(exc)) from None
        out.print("plots: " + ", ".join(str(p) for p in written))
    if summary_out:
        data = {
            label: {
                "estimate": ests[label],
                **(
                    {"fallback": unfit}
                    if (unfit := never_fitted(r.predictor) or model_fallback(model, ests[label], asked[label]))
                    else {}
                ),
                **summary_dict(r.summary),
                **limit_counts(r, cut),
                **({"topology": topology_dict(r.topology)} if r.topology else {}),
            }
            for label, r in runs
        }
        try:
            write_json(summary_out, data)
        except OutputError as exc:
            raise fail(str(exc)) from None
    if learners:
        note_fallback(est, "/".join(learners))
    for label, r in runs:
        unfitted = unfitted_note(r, ests[label])
        if unfitted:
            err.print(f"[yellow]note:[/] {label}: {unfitted}")


def policy_of(name: str, placement: str, cluster: Path | None) -> Profile:
    """A BACKFILL:ORDER[:sjf] name placed by ``placement``, or a profile file (a tuned one, say) as
    `hal simulate --profile` reads it."""
    if name.endswith(".toml") or Path(name).is_file():
        return read_profile(Path(name), placement_topology_default(cluster))
    return replace(Profile.parse(name), placement=placement)


def check_model_policies(profiles: list[tuple[str, Profile]], asked: dict[str, str], typed: bool) -> None:
    """--model refused only when no policy plans with gbm or gbm-regress, each policy's estimate named with where
    it came from (QA: a profile tuned on gbm was refused against --estimate's default, user). ValueError."""
    if any(e in GBM_NAMES for e in asked.values()):
        return
    groups: dict[str, list[str]] = {}
    for label, p in profiles:
        where = "--estimate" if typed else f"{label}'s own" if p.estimate else "the default"
        groups.setdefault(f"{asked[label]} ({where})", []).append(label)
    if len(groups) == 1:
        said = f"every policy plans with {next(iter(groups))}"
    else:
        said = "; ".join(f"{', '.join(labels)}: {e}" for e, labels in groups.items())
    raise ValueError(f"--model needs --estimate gbm or gbm-regress, or a profile tuned on one; {said}")
