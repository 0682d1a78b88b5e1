"""The summary JSON of `hal simulate` and `hal compare`: strict JSON, a metric with no value written as null; a gbm
that never fitted a model is recorded (``fallback``), as predict-eval's JSON records it.

``json.dumps`` writes nan and inf as NaN and Infinity, which JSON readers refuse (QA: a stretch factor of nan
wrote ``"avg_bsld": NaN``); a run in which no job started has no wait, slowdown or makespan either."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hal.atomic_write import write_text
from hal.sim.fallback import late_fit, unfitted_gbm
from hal.sim.metrics import Summary
from hal.sim.topo_metrics import TopoSummary

NO_JOBS: tuple[str, ...] = ("avg_wait", "p50_wait", "p95_wait", "avg_bsld", "max_bsld")
NO_JOBS += ("utilization", "allocated_utilization", "makespan")
NO_MULTI_NODE = ("fewest_leaf_share", "one_domain_share", "avg_leaves", "avg_level")

SUMMARY_HELP = (
    "summary JSON (keys: README, Simulating a trace): utilization is the trace's work over capacity x makespan in "
    "every mode, allocated_utilization the CPUs or GPUs held, topology.useful_utilization the nodes held; a metric "
    "with no value is null"
)


def finite(value: Any) -> Any:
    """``value`` with every nan or inf float replaced by None, in nested dicts and lists too."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def summary_dict(summary: Summary) -> dict[str, Any]:
    """The schedule's figures; those a run without a started job has no value for are None."""
    data: dict[str, Any] = summary.as_dict()
    if summary.jobs == 0:
        data.update(dict.fromkeys(NO_JOBS))
    return whole_span(data)


SPAN_FLOOR = 1e-9  # hal.sim.metrics divides by max(makespan, this): a span of 0 is still 0 to a reader


def whole_span(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with a makespan at the metrics' floor written as the 0 it is (QA: a one-job trace of run time 0 said
    1e-09, where the table says 0)."""
    span = data.get("makespan")
    if isinstance(span, float) and span <= SPAN_FLOOR:
        data["makespan"] = 0.0
    return data


def topology_dict(topo: TopoSummary) -> dict[str, Any]:
    """The spans over the tree; the multi-node shares and averages are None when no multi-node job ran."""
    data: dict[str, Any] = topo.as_dict()
    if topo.multi_node == 0:
        data.update(dict.fromkeys(NO_MULTI_NODE))
    if topo.jobs == 0:
        data.update(dict.fromkeys(("avg_wait", "avg_bsld", "useful_utilization", "makespan")))
    return whole_span(data)


def never_fitted(predictor: object) -> str | None:
    """What a gbm that planned with no model did, for the JSON outputs: their estimate or predictor says gbm while
    every prediction was last2's (the stderr note's condition: hal.sim.fallback). None for any other run."""
    gbm = unfitted_gbm(predictor)
    if gbm is None:
        return None
    late = late_fit(gbm)
    if late is not None:  # it did fit, at the run's end
        return f"{gbm.name} fitted too late: its {late}; every prediction was last2's"
    done, warmup = gbm.completions, gbm.cfg.warmup
    return f"{gbm.name} never fitted: {done} completions < {warmup}; every prediction was last2's"


FALLBACK = "last2 (fallback:"  # how a run's label starts when its --model file was unusable (cli/simulate.py)


def model_fallback(model: Path | None, estimate: str, asked: str) -> str | None:
    """The summary JSON's ``fallback`` when the --model file was unusable (only the label said it, in words)."""
    if model is None or not estimate.startswith(FALLBACK):
        return None
    return f"{model.name} was unusable: these are last2's predictions, not {asked}'s"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Strict JSON (no NaN or Infinity: a non-finite figure is null), indented, as the summaries are written; whole
    or not at all (hal.atomic_write: OutputError)."""
    write_text(path, json.dumps(finite(data), indent=2, allow_nan=False) + "\n")
