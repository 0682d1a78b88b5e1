"""`hal predict-eval`: how well a runtime predictor does on a trace, online, with no look-ahead."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hal.atomic_write import OutputError, output_file
from hal.cli.common import err, fail, out, report_problems, writable_files
from hal.cli.predict_notes import cut_reason, learned_note, next_job, note_history, saved_at_cut, say
from hal.cli.predict_window import id_window, only
from hal.cli.sim_json import never_fitted
from hal.cli.sim_model import fallback_name, note_fallback, overlap_note
from hal.engine.api import RuntimePredictor
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.registry import GBM_NAMES, make_predictor
from hal.engine.predict.trees import GbmConfig
from hal.learn.clocks import Reach
from hal.learn.evaluate import Evaluation, evaluate, reach_of, trace_history
from hal.learn.store import ModelFileError, load_or_fallback, save_model
from hal.model.job import JobSpec
from hal.sim.fallback import late_fit
from hal.sim.swf import TraceError, read_swf
from hal.sim.window import WINDOW_RULE, parse_window, pick

REGRESS_ALPHA = 0.4  # gbm-regress's quantile (hal.engine.predict.registry)
DEFAULT_PENALTY = 0.1
PREDICTOR_NAMES = ("user", "last2", *GBM_NAMES)  # actual, the simulator's clairvoyant estimate, has nothing to score


def check_predictor(name: str) -> None:
    """A name --predictor takes, refused in the words of its help; actual is hal simulate's clairvoyant estimate:
    it is handed each job's real run time, so it scores a perfect 1.000 whatever the trace."""
    if name == "actual":
        raise fail(
            "--predictor actual is hal simulate's clairvoyant estimate (--estimate actual): it is given each job's "
            f"real run time, so there is nothing to score; choose one of {', '.join(PREDICTOR_NAMES)}"
        )
    if name not in PREDICTOR_NAMES:
        raise fail(f"unknown predictor {name!r}; choose one of {', '.join(PREDICTOR_NAMES)}")


def gbm_config(
    predictor: str,
    mode: str | None,
    objective: str | None,
    alpha: float | None,
    under_penalty: float,
    retrain_every: int,
) -> GbmConfig:
    """The settings of ``gbm`` (``--mode`` select or regress) or of ``gbm-regress`` (regress at its quantile),
    with every option given on the command line applied to either."""
    given = {"--mode": mode is not None, "--objective": objective is not None, "--alpha": alpha is not None,
             "--under-penalty": under_penalty != DEFAULT_PENALTY, "--retrain-every": retrain_every != 0}  # fmt: skip
    if predictor not in GBM_NAMES and any(given.values()):
        named = ", ".join(k for k, v in given.items() if v)
        raise fail(f"{named}: settings of the gbm models; --predictor {predictor} has none")
    if retrain_every < 0:
        raise fail(f"--retrain-every must be >= 0 completions (0: the mode's default), not {retrain_every}")
    if under_penalty < 0:
        raise fail(f"--under-penalty is a score taken off under-predicting choices: >= 0, not {under_penalty}")
    if predictor == "gbm-regress":
        if mode not in (None, "regress"):
            raise fail("--predictor gbm-regress is --mode regress; drop --mode or use --predictor gbm")
        mode, alpha = "regress", REGRESS_ALPHA if alpha is None else alpha
    if (mode or "select") == "select" and (objective is not None or alpha is not None):
        raise fail("--objective and --alpha shape the regress mode's loss; select mode scores candidates instead")
    if objective not in (None, "quantile") and given["--alpha"]:  # gbm-regress's own alpha is its quantile's
        raise fail(f"--alpha is the quantile of --objective quantile; --objective {objective} has none")
    if 0 < retrain_every < 100:
        err.print(
            f"[yellow]note:[/] --retrain-every {retrain_every} refits the model every {retrain_every} completion(s): "
            "each refit takes tens of milliseconds, so a whole trace may take hours (the defaults: 10,000 for gbm, "
            "5,000 for regress)"
        )
    if (mode or "select") == "regress" and under_penalty != DEFAULT_PENALTY:
        raise fail("--under-penalty scores select mode's candidates; regress mode leans long with --alpha instead")
    try:
        return GbmConfig(
            mode=mode or "select",
            objective=objective or "quantile",
            alpha=0.6 if alpha is None else alpha,
            under_penalty=under_penalty,
            retrain_every=retrain_every,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc


def build_predictor(name: str, cfg: GbmConfig, model: Path | None) -> RuntimePredictor:
    """The named predictor; ``model`` starts gbm from a saved file (last2, with a warning, if unusable)."""
    if model is not None and name not in GBM_NAMES:
        raise fail(f"--model needs --predictor gbm or gbm-regress, not {name}")
    if model is not None:
        if not model.exists():  # a typo is an error; only an unusable file falls back to last2
            raise fail(f"model file not found: {model} (hal predict-eval TRACE --save-model FILE writes one)")
        pred, warning = load_or_fallback(model)
        if warning:
            err.print(f"[yellow]warning:[/] {escape(warning)}")  # a path may hold [brackets]
        return pred
    if name in GBM_NAMES:
        return GbmPredictor(cfg, name=name)
    try:
        return make_predictor(name)
    except ValueError as exc:
        raise fail(str(exc)) from exc


def settings_text(pred: RuntimePredictor) -> str:
    """A gbm's settings that differ from its name's defaults, for the table's title (empty when none do)."""
    if not isinstance(pred, GbmPredictor):
        return ""
    default = GbmConfig(mode="regress", alpha=REGRESS_ALPHA) if pred.name == "gbm-regress" else GbmConfig()
    changed = [f"mode={pred.cfg.mode}"] if pred.cfg.mode != default.mode else []
    if changed:  # the other settings against that mode's defaults (retraining differs by mode)
        default = GbmConfig(mode=pred.cfg.mode)
    ours, theirs = dataclasses.asdict(pred.cfg), dataclasses.asdict(default)
    changed += [f"{k}={v}" for k, v in ours.items() if v != theirs[k]]
    return f" ({', '.join(changed)})" if changed else ""


def table_of(ev: Evaluation) -> Table:
    table = Table(title=f"{ev.trace}: {ev.predictor} predictions, online")
    for col in ("runtime class", "jobs", "accuracy", "MAE s", "median AE s", "under-predicted"):
        table.add_column(col, justify="right")
    rows = [("all", ev.overall), *ev.by_class.items()]
    for label, s in rows:
        if not s.jobs:
            table.add_row(label, "0", "-", "-", "-", "-")
            continue
        table.add_row(
            label, f"{s.jobs:,}", f"{s.accuracy:.3f}", f"{s.mae:,.0f}", f"{s.median_ae:,.0f}", f"{s.under_rate:.1%}"
        )
    table.caption = f"cost: {ev.predict_us:.1f} µs per prediction, {ev.total_us:.1f} µs per job with learning"
    return table


def predict_eval(
    trace: Annotated[Path, typer.Argument(help="SWF trace file")],
    predictor: Annotated[str, typer.Option(help=", ".join(PREDICTOR_NAMES))] = "gbm",
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
    mode: Annotated[str | None, typer.Option(help="gbm: select (best candidate, default) or regress")] = None,
    objective: Annotated[str | None, typer.Option(help="gbm regress: quantile (default), l1 or l2")] = None,
    alpha: Annotated[
        float | None, typer.Option(help="regress: quantile, > 0.5 leans long (default 0.6; gbm-regress 0.4)")
    ] = None,
    under_penalty: Annotated[
        float, typer.Option(help="gbm select: score taken off under-predicting choices")
    ] = DEFAULT_PENALTY,
    retrain_every: Annotated[
        int, typer.Option(help="gbm: completions between retrainings (0: 10,000 for select, 5,000 for regress)")
    ] = 0,
    model: Annotated[
        Path | None,
        typer.Option(
            help="gbm: start from a saved model file and continue where it stopped: with --window, the jobs "
            "before the window that it learned are not fed to it again (another trace's jobs are)"
        ),
    ] = None,
    save_model_to: Annotated[
        Path | None,
        typer.Option(
            "--save-model",
            help="gbm: save the model at the end; with --window, it has learned only the runs that ended before the "
            "job after the window was submitted, so --model FILE --window on the rest scores without look-ahead",
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            help=f"score jobs START:COUNT only, {WINDOW_RULE} (the archive's traces number jobs in submit order); "
            "every job submitted earlier teaches"
        ),
    ] = None,
    csv_out: Annotated[Path | None, typer.Option(help="per-job CSV: job_id, submit, run, requested, predicted")] = None,
) -> None:
    """Replay the trace's real history and score each job's prediction, made at its submission."""
    check_predictor(predictor)
    cfg = gbm_config(predictor, mode, objective, alpha, under_penalty, retrain_every)
    if save_model_to is not None and predictor not in GBM_NAMES:
        raise fail("--save-model needs --predictor gbm or gbm-regress")
    try:
        asked = parse_window(window) if window else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    writable_files(save_model_to, csv_out, inputs=(trace, model), regular=(save_model_to,))
    pred = build_predictor(predictor, cfg, model)  # every option checked before the trace is read
    new_only = {"--mode": mode is not None, "--objective": objective is not None, "--alpha": alpha is not None,
                "--under-penalty": under_penalty != DEFAULT_PENALTY, "--retrain-every": retrain_every != 0}  # fmt: skip
    if model is not None and isinstance(pred, GbmPredictor) and any(new_only.values()):
        named = [k for k, v in new_only.items() if v]
        verb = "applies" if len(named) == 1 else "apply"
        err.print(
            f"[yellow]note:[/] the model's settings come from {model}; {', '.join(named)} {verb} to new models only"
        )
    if model is not None and isinstance(pred, GbmPredictor) and pred.name != predictor:
        err.print(f"[yellow]note:[/] {model} holds a {pred.cfg.mode} model: it predicts as {pred.name}")
    try:
        swf = read_swf(trace)
        picked = pick(swf, *asked) if asked is not None else None  # the jobs simulate and tune take
    except (TraceError, ValueError) as exc:
        raise fail(str(exc)) from exc
    history = trace_history(swf)
    report_problems(list(swf.problems))
    note_history(swf, history, predictor, window)
    if not history.jobs:
        raise fail(f"{trace}: no usable jobs")
    span, offsets = None, None
    if picked is not None:  # the window's jobs in job-id order, replayed by submit with every earlier one
        past_end = picked.note()
        if past_end:  # it scored fewer jobs without a word (QA); simulate and tune say the same
            err.print(f"[yellow]note:[/] {past_end}")
        span, offsets = id_window(history.jobs, picked)
    reach = reach_of(pred, history.jobs[0].submit_time) if model is not None else None
    if model is not None and isinstance(pred, GbmPredictor):  # the jobs scored, not the trace's first (QA)
        scored = picked.of(history.jobs) if picked is not None else history.jobs
        note = overlap_note(model, Reach.of(pred), [j.submit_time for j in scored], swf)
        if note:
            say(note)
    after = next_job(history.jobs, picked) if picked is not None and save_model_to is not None else None
    cut = after.submit_time if after is not None else None
    # Without --window as with --window 0:N: the loaded model's jobs are scored, not learned twice (QA: 4,454 runs
    # of a 3,000-job trace in the saved file, which was then taken for another trace's and fed them again)
    ev = evaluate(history, pred, trace.name, span, reach=reach, to_save=cut is not None, cut=cut)
    said = learned_note(ev, model, reach, window is not None)
    if said:
        err.print(f"[yellow]note:[/] {said}")
    scored = history.jobs[span[0] : sum(span)] if span else history.jobs
    if offsets is not None:
        ev, scored = only(ev, scored, offsets), [scored[i] for i in offsets]
    fell_back = model is not None and not isinstance(pred, GbmPredictor)  # unusable: said in the results too
    if csv_out is not None:
        try:
            write_predictions(csv_out, scored, ev.predictions)
        except OutputError as exc:  # a full disk: one line, and no cut-off file (QA)
            raise fail(str(exc)) from None
    if isinstance(pred, GbmPredictor) and pred.model is None:
        late = late_fit(pred)
        err.print(
            f"[yellow]note:[/] its {late}: every prediction was last2's"
            if late
            else f"[yellow]note:[/] only {pred.completions:,} jobs ended, fewer than the {pred.cfg.warmup:,} a first "
            "model needs: every prediction was last2's"
        )
    if save_model_to is not None:
        if not isinstance(pred, GbmPredictor):
            raise fail(f"nothing saved to {save_model_to}: {model} was unusable, so the replay ran on last2")
        try:
            save_model(pred, save_model_to)
        except (ModelFileError, OSError) as exc:
            why = f" ({cut_reason(after)})" if after is not None and pred.model is None else ""
            raise fail(f"{exc}{why}") from exc
        if picked is not None and after is not None:
            later = sum(1 for j in picked.of(history.jobs) if j.submit_time >= after.submit_time)
            say(saved_at_cut(save_model_to, after, picked.start + picked.count, pred, later))
    if as_json:
        data = ev.as_dict()  # "predictor" stays what predicted (last2); "fallback" says why it was not the model
        if isinstance(pred, GbmPredictor):  # mode, objective, alpha, window...: runs that differ say how (QA)
            data["gbm"] = dataclasses.asdict(pred.cfg)
        if fell_back:
            data["fallback"] = f"{model} was unusable: these are last2's predictions, not {predictor}'s"
        elif unfit := never_fitted(pred):  # "predictor" says gbm: the note on stderr is not in the JSON
            data["fallback"] = unfit
        out.print_json(json.dumps(data))
    else:
        shown = fallback_name(model) if fell_back and model else ev.predictor + settings_text(pred)
        out.print(table_of(dataclasses.replace(ev, predictor=shown)))
    if fell_back and model:
        note_fallback(fallback_name(model), predictor)


def write_predictions(path: Path, jobs: list[JobSpec], predictions: Any) -> None:
    """One row per scored job, so every figure of the table can be checked from the file."""
    import csv

    with output_file(path, newline="") as fh:  # whole or not at all (OutputError)
        out_csv = csv.writer(fh)
        out_csv.writerow(["job_id", "submit", "run", "requested", "predicted"])
        for job, p in zip(jobs, predictions, strict=True):
            asked = "" if job.time_limit is None else f"{job.time_limit:.0f}"
            out_csv.writerow([job.job_id, f"{job.submit_time:.0f}", f"{job.runtime:.0f}", asked, f"{float(p):.0f}"])
