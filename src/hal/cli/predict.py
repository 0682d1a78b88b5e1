"""`hal predict-eval`: how well a runtime predictor does on a trace, online, with no look-ahead."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hal.cli.common import err, fail, out
from hal.engine.api import RuntimePredictor
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.registry import make_predictor
from hal.engine.predict.trees import GbmConfig
from hal.learn.evaluate import Evaluation, evaluate, trace_history
from hal.learn.store import ModelFileError, load_or_fallback, save_model
from hal.sim.swf import TraceError


def gbm_config(mode: str, objective: str, alpha: float, under_penalty: float, retrain_every: int) -> GbmConfig:
    try:
        return GbmConfig(
            mode=mode, objective=objective, alpha=alpha, under_penalty=under_penalty, retrain_every=retrain_every
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc


def build_predictor(name: str, cfg: GbmConfig, model: Path | None) -> RuntimePredictor:
    """The named predictor; ``model`` starts gbm from a saved file (last2, with a warning, if unusable)."""
    if name == "gbm" and model is not None:
        pred, warning = load_or_fallback(model)
        if warning:
            err.print(f"[yellow]warning:[/] {warning}")
        return pred
    if name == "gbm":
        return GbmPredictor(cfg)
    try:
        return make_predictor(name)
    except ValueError as exc:
        raise fail(str(exc)) from exc


def table_of(ev: Evaluation) -> Table:
    table = Table(title=f"{ev.trace}: {ev.predictor} predictions, online")
    for col in ("runtime class", "jobs", "accuracy", "MAE s", "median AE s", "under-predicted"):
        table.add_column(col, justify="right")
    rows = [("all", ev.overall), *ev.by_class.items()]
    for label, s in rows:
        table.add_row(
            label, f"{s.jobs:,}", f"{s.accuracy:.3f}", f"{s.mae:,.0f}", f"{s.median_ae:,.0f}", f"{s.under_rate:.1%}"
        )
    table.caption = f"cost: {ev.predict_us:.1f} µs per prediction, {ev.total_us:.1f} µs per job with learning"
    return table


def predict_eval(
    trace: Annotated[Path, typer.Argument(help="SWF trace file")],
    predictor: Annotated[str, typer.Option(help="user|last2|gbm|gbm-regress")] = "gbm",
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
    mode: Annotated[str, typer.Option(help="gbm: select (best candidate) or regress")] = "select",
    objective: Annotated[str, typer.Option(help="gbm regress: quantile|l1|l2")] = "quantile",
    alpha: Annotated[float, typer.Option(help="gbm regress: quantile (> 0.5 leans long)")] = 0.6,
    under_penalty: Annotated[float, typer.Option(help="gbm select: score taken off under-predicting choices")] = 0.1,
    retrain_every: Annotated[
        int, typer.Option(help="gbm: completions between retrainings (0: 10,000 for select, 5,000 for regress)")
    ] = 0,
    model: Annotated[Path | None, typer.Option(help="gbm: start from a saved model file")] = None,
    save_model_to: Annotated[Path | None, typer.Option("--save-model", help="gbm: save the model at the end")] = None,
) -> None:
    """Replay the trace's real history and score each job's prediction, made at its submission."""
    try:
        history = trace_history(trace)
    except TraceError as exc:
        raise fail(str(exc)) from exc
    if not history.jobs:
        raise fail(f"{trace}: no usable jobs")
    pred = build_predictor(predictor, gbm_config(mode, objective, alpha, under_penalty, retrain_every), model)
    ev = evaluate(history, pred, trace.name)
    if save_model_to is not None:
        if not isinstance(pred, GbmPredictor):
            raise fail("--save-model needs --predictor gbm")
        try:
            save_model(pred, save_model_to)
        except (ModelFileError, OSError) as exc:
            raise fail(str(exc)) from exc
    if as_json:
        out.print_json(json.dumps(ev.as_dict()))
    else:
        out.print(table_of(ev))
