"""How far per-user-history runtime prediction can go on the archive traces: is gbm's 0.65 accuracy target within
reach of its candidates and features? (issue 3)

Usage: python benchmarks/predict_headroom.py [--no-online] [--threads N] [--json] [TRACE_NAME ...]
(default: the five archive traces). Everything stays in memory; nothing is written.

On HAL's own job set (hal.learn.evaluate.trace_history) and scoring (accuracy = mean min(p, r)/max(p, r), p capped
at the request; under = share predicted shorter than they ran), per trace:
- HAL's last2 and gbm, replayed by hal.learn.evaluate (the reference), and a check that this script's own replay
  of the users' histories gives last2's predictions;
- oracle: per job the best of HAL's three candidates (user's last run with the same request and procs, with the same
  request, the request), and of a broad set (last 1-5, mean of 2, median, geometric mean, max, min of the user's
  runs per key user / +request / +procs / +request+procs / +executable; the request; the age of the user's running
  jobs; x0.25, x0.5, x2 of eight of them; eight constants 1 min-10 h). Not a predictor: a bound on choosing;
- medoid: the metric-medoid of the user's last 32 runs alone (see headroom.medoid), model-free and online;
- selector, online: one LightGBM regressor per candidate scores exp(-|log c - log r|) - 0.1 [c < r]; the best scored
  candidate is predicted. Jobs are cut into blocks in submission order, each block's models trained on the last
  20,000 jobs that ended before its first submission. With HAL's three candidates, then with the medoid added;
- selector CEILING, NOT online: the same features and eight candidates, models trained by 5-fold random
  cross-validation over the whole trace (they see future jobs). If this stays below 0.65, no model on these
  features reaches the target.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np

from hal.engine.predict.basic import LastTwo
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import evaluate, trace_history

sys.path.insert(0, str(Path(__file__).resolve().parent))
from argtypes import existing_file, known_names, positive_int
from headroom import FArr, Jobs, capped, fill, jobs_of, lg, medoid, ratio, replay
from learning_results import HPC_TRACES, TRACES

HAL3 = ("rp_last1", "r_last1", "req")
PENALTY = 0.1  # a selector's score for a candidate below the runtime (under-prediction delays a backfill plan)
SCALED = ("rp_last1", "r_last1", "u_last1", "u_mean2", "rp_med", "r_med", "u_med", "req")
CONSTANTS = (60, 300, 900, 1800, 3600, 7200, 14400, 36000)
SEL_CANDS = (
    *("rp_last1", "rp_last2", "rp_med", "rp_max", "r_last1", "r_med", "r_max", "p_last1", "u_last1", "u_last2"),
    *("u_mean2", "u_med", "u_max", "u_min", "u_gmean", "medoid", "medoid_s", "top2", "top3"),
)
CEILING_CHOICES = ("medoid", "rp_last1", "r_last1", "req", "rp_med", "r_med", "u_last1", "top2")


@dataclass(frozen=True, slots=True)
class Result:
    trace: str
    method: str
    online: bool
    accuracy: float
    under_rate: float
    seconds: float
    candidates: int  # 0: HAL's own predictors


@dataclass(frozen=True, slots=True)
class Data:
    jobs: Jobs
    cands: dict[str, FArr]  # seconds; nan = missing
    X: FArr  # selector features
    lcand: dict[str, FArr]  # log seconds, filled and capped at the request


def scores(p: FArr, jobs: Jobs) -> tuple[float, float]:
    p = capped(p, jobs.req)
    return float(ratio(p, jobs.run).mean()), float((p < jobs.run).mean())


def prepare(jobs: Jobs) -> Data:
    cands, feats, past = replay(jobs)
    m = medoid(jobs, past)
    cands |= {"medoid": m.point, "medoid_s": medoid(jobs, past, 0.8, 5.0, 5.0, h=16).point}
    cands |= {"top2": m.top2, "top3": m.top3}
    lreq = lg(np.where(np.isnan(jobs.req), fill(cands["u_max"], jobs, cands), jobs.req))
    cols = [lreq, np.log2(np.maximum(jobs.procs, 1)), jobs.user, jobs.group, jobs.queue]
    cols += [(jobs.submit % 86400) / 3600, (jobs.submit // 86400) % 7, m.conf, m.wsum, m.conf2, m.conf3]
    for k in sorted(feats):
        cols.append(np.log1p(np.maximum(feats[k], 0)) if k.startswith("since") or k == "machine_recent" else feats[k])
    cols += [lg(cands[k]) - lreq for k in ("run_same_elapsed", "run_any_elapsed")]
    lcand = {"req": lreq}
    for k in SEL_CANDS + (("x_last1", "x_med") if "x_last1" in cands else ()):
        lcand[k] = np.minimum(lg(fill(cands[k], jobs, cands)), lreq)
        cols += [lcand[k] - lreq, lg(cands[k]) - lreq]
    return Data(jobs, cands, np.column_stack(cols), lcand)


def oracles(d: Data) -> list[tuple[str, int, tuple[float, float]]]:
    """Accuracy and under-rate of choosing, per job, the best candidate of HAL's three and of the broad set."""
    jobs, r = d.jobs, d.jobs.run
    base = {k: fill(v, jobs, d.cands) for k, v in d.cands.items() if k not in ("medoid", "medoid_s", "top2", "top3")}
    broad = dict(base)
    broad |= {f"{k}*{f}": base[k] * f for k in SCALED for f in (0.25, 0.5, 2.0)}
    broad |= {f"fix{c}": np.full(len(r), float(c)) for c in CONSTANTS}
    out = []
    for label, keys in (("oracle HAL3", list(HAL3)), ("oracle broad", list(broad))):
        P = np.column_stack([capped(broad[k], jobs.req) for k in keys])
        best = P[np.arange(len(r)), ratio(P, r[:, None]).argmax(1)]
        out.append((label, len(keys), (float(ratio(best, r).mean()), float((best < r).mean()))))
    return out


def booster(params: Mapping[str, object], X: FArr, y: FArr, rounds: int) -> Callable[[FArr], FArr]:
    model = lgb.train({"objective": "l2", "verbose": -1, "min_data_in_leaf": 20, **params}, lgb.Dataset(X, y), rounds)

    def predict(Z: FArr) -> FArr:
        return np.asarray(model.predict(Z), dtype=np.float64)

    return predict


def targets(d: Data, choices: tuple[str, ...]) -> tuple[FArr, FArr]:
    CM = np.column_stack([d.lcand[c] for c in choices])
    y = lg(d.jobs.run)[:, None]
    return CM, np.exp(-np.abs(CM - y)) - PENALTY * (y > CM)


def online_selector(d: Data, choices: tuple[str, ...], threads: int, window: int = 20000) -> FArr:
    """Block-wise online: a block's models learn only from jobs that ended before the block's first submission;
    last2 until 500 jobs have ended."""
    jobs, n = d.jobs, len(d.jobs.run)
    CM, S = targets(d, choices)
    pred = fill(d.cands["u_mean2"], jobs, d.cands)
    by_end = np.argsort(jobs.end, kind="stable")
    ends = jobs.end[by_end]
    block = 5000 if n > 100000 else 2500
    params = {"learning_rate": 0.1, "num_leaves": 15, "num_threads": threads, "feature_fraction": 0.7}
    params |= {"bagging_fraction": 0.7, "bagging_freq": 1, "seed": 1}
    for s in range(0, n, block):
        k = int(np.searchsorted(ends, jobs.submit[s], side="left"))
        if k < 500:
            continue
        tr = by_end[max(0, k - window) : k]
        assert (jobs.end[tr] < jobs.submit[s]).all()
        sc = np.column_stack([booster(params, d.X[tr], S[tr, j], 40)(d.X[s : s + block]) for j in range(len(choices))])
        pred[s : s + block] = np.exp(CM[s : s + block][np.arange(len(sc)), sc.argmax(1)])
    return pred


def cv_ceiling(d: Data, threads: int) -> FArr:
    """NOT online: 5-fold random cross-validation over the whole trace (models see future jobs)."""
    n = len(d.jobs.run)
    CM, S = targets(d, CEILING_CHOICES)
    fold = np.random.default_rng(0).integers(0, 5, n)
    sc = np.zeros_like(S)
    params = {"learning_rate": 0.1, "num_leaves": 31, "num_threads": threads}
    for f in range(5):
        tr, te = fold != f, fold == f
        for j in range(len(CEILING_CHOICES)):
            sc[te, j] = booster(params, d.X[tr], S[tr, j], 100)(d.X[te])
    best: FArr = np.exp(CM[np.arange(n), sc.argmax(1)])
    return best


def measure(label: str, file: Path, threads: int, online: bool) -> list[Result]:
    out: list[Result] = []

    def add(method: str, is_online: bool, acc_under: tuple[float, float], began: float, cands: int = 0) -> None:
        out.append(Result(label, method, is_online, *acc_under, time.perf_counter() - began, cands))
        print(f"  {label} {method}: {acc_under[0]:.3f} / {acc_under[1]:.1%} ({out[-1].seconds:.0f} s)", flush=True)

    history = trace_history(file)
    jobs = jobs_of(history)
    hal = {}
    for pred in (LastTwo(), GbmPredictor()):
        t = time.perf_counter()
        ev = evaluate(history, pred, label)
        hal[ev.predictor] = ev.predictions
        add(f"HAL {ev.predictor}", True, (ev.overall.accuracy, ev.overall.under_rate), t)
    t = time.perf_counter()
    d = prepare(jobs)
    print(f"  {label}: replay, medoid and features {time.perf_counter() - t:.0f} s", flush=True)
    mine = capped(fill(d.cands["u_mean2"], jobs, d.cands), jobs.req)
    same = float(np.isclose(mine, hal["last2"], rtol=1e-9).mean())
    print(f"  {label}: this replay's last2 equals HAL's on {same:.4%} of jobs", flush=True)
    if same < 0.999:
        raise SystemExit(f"{label}: the replay does not reproduce HAL's last2 ({same:.4%} of jobs agree)")
    t = time.perf_counter()
    for method, size, acc_under in oracles(d):
        add(method, False, acc_under, t, size)
    t = time.perf_counter()
    add("medoid alone", True, scores(fill(d.cands["medoid"], jobs, d.cands), jobs), t, 1)
    if online:
        for method, choices in (("selector HAL3", HAL3), ("selector HAL3 + medoid", ("medoid", *HAL3))):
            t = time.perf_counter()
            add(method, True, scores(online_selector(d, choices, threads), jobs), t, len(choices))
    t = time.perf_counter()
    add("selector CEILING, 5-fold CV", False, scores(cv_ceiling(d, threads), jobs), t, len(CEILING_CHOICES))
    return out


def table(results: list[Result], traces: list[str]) -> str:
    methods = list(dict.fromkeys(r.method for r in results))
    cell = {(r.method, r.trace): f"{r.accuracy:.3f} / {r.under_rate:.1%}" for r in results}
    online = {r.method: "yes" if r.online else "**no**" for r in results}
    sizes = {m: {r.trace: r.candidates for r in results if r.method == m} for m in methods}
    size = {m: "/".join(str(n) for n in dict.fromkeys(v.values()) if n) or "-" for m, v in sizes.items()}
    lines = [f"| method | online | candidates | {' | '.join(traces)} |", "|---|---|---|" + "---|" * len(traces)]
    lines += [
        f"| {m} | {online[m]} | {size[m]} | {' | '.join(cell.get((m, t), '') for t in traces)} |" for m in methods
    ]
    notes = [f"{m}: " + ", ".join(f"{t} {n}" for t, n in v.items()) for m, v in sizes.items() if "/" in size[m]]
    tail = ["", "Candidates per trace: " + "; ".join(notes)] if notes else []
    return "\n".join(["accuracy / under-rate", "", *lines, *tail])


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "traces", nargs="*", help=f"trace short names, of: {', '.join(HPC_TRACES)} (default: all; read from ../shared)"
    )
    ap.add_argument("--no-online", action="store_true", help="skip the online selectors (the slowest part)")
    ap.add_argument("--threads", type=positive_int, default=1, help="LightGBM threads (default 1)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON after the table")
    args = ap.parse_args(argv)
    known_names(ap, args.traces, HPC_TRACES)
    chosen = {n: HPC_TRACES[n] for n in args.traces} if args.traces else dict(HPC_TRACES)
    for file in chosen.values():  # the shared traces beside the checkout: missing ones said before any run
        existing_file(ap, TRACES / file, "trace")
    results: list[Result] = []
    for label, file in chosen.items():
        began = time.perf_counter()
        results += measure(label, TRACES / file, args.threads, not args.no_online)
        print(f"  {label}: {time.perf_counter() - began:.0f} s", flush=True)
    print(table(results, list(chosen)))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
