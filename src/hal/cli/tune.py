"""`hal tune`: fit the parametric priority on an earlier slice of a trace and test it on a later one."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hal.atomic_write import OutputError, write_text
from hal.cli.common import err, fail, note_workload, out, report_problems, writable_files
from hal.cli.simulate import ACTUAL_HELP, PlacementOpt, check_machine, default_placement
from hal.engine.plugins.tuned import TunedArgs
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.learn.tune import FAMILIES, SEEDS, Machine, args_text, order_bsld, search, sim_objective
from hal.model.job import JobSpec
from hal.sim.limits import cut_at_partition_limits
from hal.sim.runner import SimOptions, cluster_machine, keep_known_deps, load, load_cluster
from hal.sim.swf import Problem, TraceError
from hal.sim.trace_notes import window_id_note
from hal.sim.window import WINDOW_RULE, Window, parse_window, pick, skips_in

BASELINES = ("fcfs", "sjf", "f1")


def tune(
    trace: Annotated[Path, typer.Argument(help="SWF trace file")],
    train: Annotated[
        str,
        typer.Option(help=f"START:COUNT of the jobs to tune on: {WINDOW_RULE}"),
    ],
    test: Annotated[str | None, typer.Option(help="START:COUNT to evaluate on (default: the next COUNT jobs)")] = None,
    estimate: Annotated[
        str, typer.Option(help=f"runtime predictions the planner uses: user, last2, gbm, gbm-regress or {ACTUAL_HELP}")
    ] = "last2",
    backfill_order: Annotated[str, typer.Option(help="queue or sjf")] = "sjf",
    budget: Annotated[int, typer.Option(help="simulations the search may run")] = 60,
    seed: Annotated[int, typer.Option(help="search seed")] = 1,
    family: Annotated[
        str,
        typer.Option(help="static: runtime, size, area, submit age; dynamic: adds log-area, wait, starvation guard"),
    ] = "static",
    procs: Annotated[int | None, typer.Option(help="machine size in processors (default: trace header)")] = None,
    cluster: Annotated[
        Path | None,
        typer.Option(help="cluster description TOML: simulate on its nodes and partitions (as hal simulate --cluster)"),
    ] = None,
    placement: PlacementOpt = None,
    gpus: Annotated[
        bool, typer.Option("--gpus", help="with --cluster: each trace processor is a GPU (the AI traces)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    profile_out: Annotated[
        Path | None,
        typer.Option(help="write the tuned policy as a profile TOML (hal server --profile, hal simulate --profile)"),
    ] = None,
) -> None:
    """Search the priority weights by simulating the training slice; report them against fixed orders
    on the test slice, which must come after the training slice and share no job with it."""
    try:
        t0, tn = parse_window(train, "--train")
        s0, sn = parse_window(test, "--test") if test else (t0 + tn, tn)
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
        if budget < len(SEEDS):
            raise ValueError(
                f"--budget must be at least {len(SEEDS)} simulations (the search starts by running the "
                f"{len(SEEDS)} fixed orders it improves on), not {budget}"
            )
        writable_files(profile_out, inputs=(trace, cluster))
        Profile(backfill_order=backfill_order)  # names the valid orders if this one is not
        make_predictor(estimate)  # likewise for the estimate
        if s0 < t0 + tn:
            raise ValueError(f"the test slice {s0}:{sn} overlaps or precedes the training slice {t0}:{tn}")
        check_machine(procs, cluster, placement or "firstfit")
        placement = default_placement(placement, cluster)
        swf, workload = load(trace, SimOptions(procs=procs, cluster=cluster, gpus=gpus))
        machine: Machine = cluster_machine(cluster) if cluster is not None else workload.capacity
        train_at = pick(swf, t0, tn, "--train")
        if test is None and t0 + tn >= train_at.usable:  # the default test slice, the next COUNT jobs, holds none
            raise ValueError(
                f"--train {t0}:{tn} reaches the end of the trace's {train_at.usable:,} usable jobs: none are left "
                f"for the test slice (by default the next {tn:,}); give a shorter --train"
            )
        test_at = pick(swf, s0, sn, "--test")
    except (TraceError, ValueError) as exc:
        raise fail(str(exc)) from exc
    skips = {at.name: slice_skips(at, swf.problems, workload.skipped) for at in (train_at, test_at)}
    workload.notes = [f"(whole trace) {note}" for note in workload.notes]  # the slices' skips are listed instead
    cut = cut_at_partition_limits(workload, load_cluster(cluster)) if cluster is not None else frozenset()
    if cut:  # as hal simulate --cluster runs them (hal.sim.limits)
        workload.notes.append(
            f"(whole trace) {len(cut):,} job(s) run longer than their partition's max_time: killed there"
        )
    for option, window in (("--train", train), ("--test", test or f"{t0 + tn}:{tn}")):  # slices count ids (QA)
        if note := window_id_note(swf, window, option):
            workload.notes.append(note)
    outside = len(swf.problems) + len(workload.skipped) - sum(len(v) for v in skips.values())
    if outside:
        workload.notes.append(f"(whole trace) {outside:,} other line(s) or job(s) skipped, outside both slices")
    note_workload(workload)
    train_jobs, test_jobs = slice_jobs(train_at, workload.jobs), slice_jobs(test_at, workload.jobs)
    counts = {"train": slice_count(train_at, train_jobs, skips["--train"]),
              "test": slice_count(test_at, test_jobs, skips["--test"])}  # fmt: skip
    err.print(
        f"tuning on jobs {t0}-{t0 + len(train_at.ids) - 1} ({counts['train']['jobs']:,} run) with {budget} simulations,"
        f" testing on jobs {s0}-{s0 + len(test_at.ids) - 1} ({counts['test']['jobs']:,} run) ..."
    )
    untrained = gbm_untrained(estimate, len(train_jobs), len(test_jobs))
    if untrained:
        err.print(f"[yellow]note:[/] {untrained}")
    res = search(
        sim_objective(train_jobs, machine, estimate, backfill_order, placement), budget, seed, FAMILIES[family]
    )
    rows = {"tuned": (res.value, sim_objective(test_jobs, machine, estimate, backfill_order, placement)(res.best))}
    for name in BASELINES:
        rows[name] = (
            order_bsld(train_jobs, machine, estimate, backfill_order, name, placement=placement),
            order_bsld(test_jobs, machine, estimate, backfill_order, name, placement=placement),
        )
    on = f" --cluster {cluster.name} --placement {placement}" if cluster is not None else ""
    made_by = (
        f"hal tune {trace.name} --train {train} --estimate {estimate}{on}\n"
        "# estimate: the predictions the weights were tuned on; hal server and hal simulate use it by default"
    )
    snippet = profile_toml(res.best, backfill_order, made_by, placement if cluster is not None else None, estimate)
    if profile_out is not None:
        try:
            write_text(profile_out, snippet)  # whole or not at all: a full disk left a cut-off profile (QA)
        except OutputError as exc:
            raise fail(str(exc)) from None
        err.print(f"tuned profile written to {profile_out} (tuned on --estimate {estimate}, which it names)")
    if as_json:
        data = {"weights": asdict(res.best), "evaluations": res.evaluations, "avg_bsld": rows, "estimate": estimate,
                "slices": counts}  # fmt: skip
        data |= untrained_json(estimate, len(train_jobs), len(test_jobs))
        out.print_json(json.dumps(data))
        return
    table = Table(title=f"{trace.name}: avg bsld, EASY ({backfill_order} backfill), estimate={estimate}")
    for col in (
        "order",
        f"train {t0}:{tn} ({counts['train']['jobs']:,} jobs)",
        f"test {s0}:{sn} ({counts['test']['jobs']:,} jobs)",
    ):
        table.add_column(col, justify="right")
    for name, (a, b) in rows.items():
        table.add_row(name, f"{a:,.2f}", f"{b:,.2f}")
    table.caption = f"tuned weights: {args_text(res.best)} ({res.evaluations} simulations)"
    out.print(table)
    if profile_out is None:
        err.print("as a profile (--profile-out FILE writes it):")
        typer.echo(snippet, err=True, nl=False)  # not through Rich: wrapped lines would not be valid TOML


def slice_skips(window: Window, problems: list[Problem], skipped: list[Problem]) -> list[Problem]:
    """A slice's own skips, listed under its name: its unreadable lines and the jobs of it a run drops (QA: the
    whole trace's 2,491 skips were listed for a 100-job --train)."""
    own = skips_in(window, [*problems, *skipped])
    shown: list[object] = list(own)
    report_problems(shown, f"skipped in {window.name} {window.start}:{window.count}")
    return own


def slice_count(window: Window, jobs: list[JobSpec], skipped: list[Problem]) -> dict[str, int]:
    """How many of a slice's jobs run, and how many of its lines and jobs were skipped (JSON: ``slices``)."""
    return {"start": window.start, "count": window.count, "jobs": len(jobs), "skipped": len(skipped)}


def slice_jobs(window: Window, jobs: list[JobSpec]) -> list[JobSpec]:
    """A slice's jobs that fit the machine, said when the slice runs past the trace's end (as simulate and
    predict-eval say it); refused when none fit."""
    note = window.note()
    if note:
        err.print(f"[yellow]note:[/] {note}")
    chosen = keep_known_deps(window.of(jobs))
    if not chosen:
        raise fail(
            f"{window.name} {window.start}:{window.count}: none of its {len(window.ids):,} jobs fits the machine"
        )
    return chosen


def short_slices(estimate: str, train: int, test: int) -> tuple[int, list[tuple[str, int]]]:
    """Each simulation learns gbm from its own slice's completions: a slice shorter than its warm-up never
    trains a model, and one of exactly the warm-up's length trains it at its last completion, after every job was
    submitted and predicted; either run plans on the fallback's (last2's) predictions while the profile names gbm.
    gbm's warm-up and those slices (none for the other estimates)."""
    predictor = make_predictor(estimate)
    if not isinstance(predictor, GbmPredictor):
        return 0, []
    warmup = predictor.cfg.warmup
    return warmup, [(name, n) for name, n in (("training", train), ("test", test)) if n <= warmup]


def gbm_untrained(estimate: str, train: int, test: int) -> str | None:
    """The note on stderr when a slice is too short for gbm to train (``short_slices``)."""
    warmup, slices = short_slices(estimate, train, test)
    if not slices:
        return None
    short = [f"the {name} slice has {n:,} jobs" for name, n in slices]
    whose = "those runs" if len(short) > 1 else "its runs"
    why = "gbm never trained" if all(n < warmup for _, n in slices) else "gbm never trained before the last submission"
    return (
        f"--estimate {estimate} learns from each simulation's completed jobs and needs {warmup:,} of them for a "
        f"first model; {' and '.join(short)}, so {whose} planned with last2 predictions ({why}) although the "
        f"profile names {estimate}"
    )


def untrained_json(estimate: str, train: int, test: int) -> dict[str, str]:
    """--json's record of the same (``fallback``, as simulate, compare and predict-eval write it): the estimate
    field says gbm while those runs' predictions were all last2's."""
    warmup, slices = short_slices(estimate, train, test)
    if not slices:
        return {}
    short = " and ".join(f"the {name} slice has {n} jobs" for name, n in slices)
    whose = "their" if len(slices) > 1 else "its"
    if all(n < warmup for _, n in slices):
        why = f"never fitted: {short} (< {warmup})"
    else:  # a slice of exactly the warm-up fits at its last completion
        why = f"never fitted before the last submission: {short} (<= {warmup}, the completions a first fit needs)"
    return {"fallback": f"{estimate} {why}; every prediction in {whose} runs was last2's"}


def profile_toml(
    args: TunedArgs, backfill_order: str, made_by: str, placement: str | None = None, estimate: str = "last2"
) -> str:
    """The tuned priority as a profile file: what `hal server --profile` and `hal simulate --profile` read.
    Tuned on a cluster's nodes, it names the placement the weights were tuned with."""
    lines = [f"# {made_by}", 'order = "tuned"', 'backfill = "easy"', f'backfill_order = "{backfill_order}"']
    lines.append(f'estimate = "{estimate}"')
    if placement is not None:
        lines.append(f'placement = "{placement}"')
    lines += ["", "[order_args]", *(f"{k} = {v!r}" for k, v in asdict(args).items())]
    return "\n".join(lines) + "\n"
