"""Runtime-prediction accuracy of user estimates, last2 and gbm on the real traces, online (issue 3).

Usage: python benchmarks/predict_accuracy.py [TRACE_NAME ...]   (default: the five traces and Philly)
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

from hal.engine.api import RuntimePredictor
from hal.engine.predict.basic import LastTwo, UserEstimate
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.registry import make_predictor
from hal.learn.evaluate import Evaluation, evaluate, trace_history

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learning_results import HPC_TRACES, PHILLY, TRACES, previous_rows, write_section


def predictors() -> list[RuntimePredictor]:
    return [UserEstimate(), LastTwo(), GbmPredictor(), make_predictor("gbm-regress")]


def row(trace: str, ev: Evaluation, target: float | None, last2_under: float | None) -> str:
    o = ev.overall
    ok = ""
    if target is not None and ev.predictor.startswith("gbm"):
        met = o.accuracy >= target and last2_under is not None and o.under_rate < last2_under
        ok = "yes" if met else "no"
    return (
        f"| {trace} | {ev.predictor} | {o.jobs:,} | {o.accuracy:.3f} | {o.mae:,.0f} | {o.median_ae:,.0f} "
        f"| {o.under_rate:.1%} | {ev.predict_us:.0f} | {ev.total_us:.0f} | {ok} |"
    )


def main(names: list[str]) -> None:
    traces = dict(HPC_TRACES)
    traces[PHILLY[0]] = PHILLY[1]
    chosen = {n: traces[n] for n in names} if names else traces
    lines = [
        "## Runtime prediction accuracy (online, no look-ahead)",
        "",
        "Command: `python benchmarks/predict_accuracy.py` (the same figures per trace: "
        "`hal predict-eval TRACE --predictor user|last2|gbm|gbm-regress --json`).",
        "Accuracy = mean min(p, r)/max(p, r); under = share of jobs predicted shorter than they ran; cost in µs per "
        "job (predict; predict + learn, retraining included). Target: gbm accuracy >= 0.65 with under < last2's.",
        f"Machine: {platform.machine()}, {platform.python_version()}, shared with other engineers' runs.",
        "",
        "| trace | predictor | jobs | accuracy | MAE s | median AE s | under | µs predict | µs with learning "
        "| target met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = previous_rows("predict_accuracy", 2)
    for label, file in chosen.items():
        began = time.perf_counter()
        history = trace_history(TRACES / file)
        last2_under = None
        for pred in predictors():
            ev = evaluate(history, pred, label)
            if ev.predictor == "last2":
                last2_under = ev.overall.under_rate
            key = f"{label} | {ev.predictor}"
            rows[key] = row(label, ev, 0.65, last2_under)
            print(rows[key], flush=True)
        print(f"  {label}: {time.perf_counter() - began:.0f} s", flush=True)
        ordered = [v for t in traces for k, v in rows.items() if k.split(" | ")[0] == t]
        write_section("predict_accuracy", "\n".join(lines + ordered))


if __name__ == "__main__":
    main(sys.argv[1:])
