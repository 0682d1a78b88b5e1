"""Online replay of a trace's per-user history for benchmarks/predict_headroom.py: candidate runtimes, features
and the metric-medoid, each from jobs that ended strictly before the job's submission (HAL's event order)."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.learn.evaluate import History

FArr = npt.NDArray[np.float64]
IArr = npt.NDArray[np.int64]
K = 5  # completions kept per key (user; user+request; user+procs; user+request+procs; user+executable)
H = 32  # the user's last completions the medoid weighs


@dataclass(frozen=True, slots=True)
class Jobs:
    """HAL's job set (trace_history) as arrays; ``req`` is nan where the job has no usable request."""

    submit: FArr
    end: FArr
    run: FArr
    req: FArr
    procs: FArr
    user: FArr  # codes in order of first appearance
    group: FArr
    queue: FArr
    exe: IArr


def jobs_of(history: History) -> Jobs:
    def codes(values: list[str]) -> FArr:
        seen: dict[str, int] = {}
        return np.array([seen.setdefault(v, len(seen)) for v in values], dtype=np.float64)

    js = history.jobs
    return Jobs(
        submit=np.array([j.submit_time for j in js], dtype=np.float64),
        end=np.asarray(history.ends, dtype=np.float64),
        run=np.array([j.runtime or 0.0 for j in js], dtype=np.float64),
        req=np.array([np.nan if j.requested is None else j.requested for j in js], dtype=np.float64),
        procs=np.array([j.procs for j in js], dtype=np.float64),
        user=codes([j.user for j in js]),
        group=codes([j.group for j in js]),
        queue=np.array([j.queue for j in js], dtype=np.float64),
        exe=np.array([j.executable for j in js], dtype=np.int64),
    )


def lg(x: FArr) -> FArr:
    return np.log(np.maximum(x, 1.0))


def _lt(x: float) -> float:
    return math.log(x) if x > 1 else 0.0


def event_order(jobs: Jobs) -> IArr:
    """Submissions (e < n) and completions (e >= n) in time order, submissions first at the same instant."""
    n = len(jobs.submit)
    idx = np.arange(n)
    return np.lexsort((np.r_[idx, idx], np.r_[np.zeros(n), np.ones(n)], np.r_[jobs.submit, jobs.end]))


def replay(jobs: Jobs) -> tuple[dict[str, FArr], dict[str, FArr], IArr]:
    """Candidates (seconds, uncapped, nan = none) and features per job, and the indices of the user's last ``H``
    completions, most recent first (-1 pads). Only completions with end < submit are used."""
    n = len(jobs.submit)
    cands: dict[str, FArr] = {}
    feats: dict[str, FArr] = {}

    def put(d: dict[str, FArr], key: str, i: int, v: float) -> None:
        if key not in d:
            d[key] = np.full(n, np.nan)
        d[key][i] = v

    last: dict[Hashable, deque[float]] = defaultdict(lambda: deque(maxlen=K))
    count: dict[Hashable, int] = defaultdict(int)
    hist: dict[int, deque[int]] = defaultdict(lambda: deque(maxlen=H))
    recent: deque[float] = deque(maxlen=32)
    running: dict[int, set[int]] = defaultdict(set)
    last_sub: dict[int, float] = {}
    last_end: dict[int, float] = {}
    past = np.full((n, H), -1, dtype=np.int64)
    sub, end, run = jobs.submit.tolist(), jobs.end.tolist(), jobs.run.tolist()
    req = [None if math.isnan(q) else q for q in jobs.req.tolist()]
    procs, user, exe = jobs.procs.tolist(), [int(u) for u in jobs.user.tolist()], jobs.exe.tolist()
    start = (jobs.end - jobs.run).tolist()

    def keys(i: int) -> list[tuple[str, Hashable]]:
        u, q, p, x = user[i], req[i], procs[i], exe[i]
        out: list[tuple[str, Hashable]] = [("rp", ("rp", u, q, p)), ("r", ("r", u, q)), ("p", ("p", u, p)), ("u", u)]
        return [*out, ("x", ("x", u, x))] if x > 0 else out

    for e in event_order(jobs).tolist():
        i = e % n
        u = user[i]
        if e >= n:  # completion
            for _, key in keys(i):
                last[key].append(run[i])
                count[key] += 1
            hist[u].append(i)
            last_end[u] = max(last_end.get(u, -1.0), end[i])
            running[u].discard(i)
            recent.append(_lt(run[i]))
            continue
        t = sub[i]
        for tag, key in keys(i):
            v = list(last.get(key, ()))
            if not v:
                continue
            for k in range(1, len(v) + 1):
                put(cands, f"{tag}_last{k}", i, v[-k])
            s = sorted(v)
            m = len(s) // 2
            put(cands, f"{tag}_mean2", i, sum(v[-2:]) / len(v[-2:]))
            put(cands, f"{tag}_med", i, s[m] if len(s) % 2 else 0.5 * (s[m - 1] + s[m]))
            put(cands, f"{tag}_gmean", i, math.exp(sum(_lt(r) for r in v) / len(v)))
            put(cands, f"{tag}_max", i, s[-1])
            put(cands, f"{tag}_min", i, s[0])
            put(feats, f"{tag}_n", i, len(v))
            put(feats, f"{tag}_spread", i, _lt(s[-1]) - _lt(s[0]))
        put(cands, "req", i, np.nan if req[i] is None else req[i])
        el_any = el_same = -1.0
        n_run = n_queued = 0
        for j in running[u]:  # the user's jobs still running at submission: their age is known now
            if start[j] > t:
                n_queued += 1
                continue
            n_run += 1
            el_any = max(el_any, t - start[j])
            if req[j] == req[i] and procs[j] == procs[i]:
                el_same = max(el_same, t - start[j])
        put(cands, "run_same_elapsed", i, el_same if el_same >= 0 else np.nan)
        put(cands, "run_any_elapsed", i, el_any if el_any >= 0 else np.nan)
        for name, val in (
            ("n_running", n_run),
            ("n_queued", n_queued),
            ("srp_count", count.get(keys(i)[0][1], 0)),
            ("u_count", count.get(u, 0)),
            ("since_sub", t - last_sub[u] if u in last_sub else np.nan),
            ("since_end", t - last_end[u] if u in last_end else np.nan),
            ("machine_recent", sum(recent) / len(recent) if recent else np.nan),
        ):
            put(feats, name, i, val)
        h = hist.get(u)
        if h:
            past[i, : len(h)] = list(reversed(h))
        last_sub[u] = t
        running[u].add(i)
    return cands, feats, past


def fill(c: FArr, jobs: Jobs, cands: dict[str, FArr]) -> FArr:
    """A missing candidate becomes the user's last run, else the request, else one hour."""
    out = c.copy()
    for alt in (cands["u_last1"], jobs.req, np.full(len(c), 3600.0)):
        out = np.where(np.isnan(out), alt, out)
    return out


def capped(p: FArr, req: FArr) -> FArr:
    """As HAL scores: never above the request, at least one second."""
    return np.maximum(np.where(np.isnan(req), p, np.minimum(p, req)), 1.0)


def ratio(p: FArr, r: FArr) -> FArr:
    hi = np.maximum(p, r)
    return np.where(hi > 0, np.minimum(p, r) / np.where(hi > 0, hi, 1.0), 1.0)


@dataclass(frozen=True, slots=True)
class Medoid:
    point: FArr  # seconds, nan without history
    top2: FArr
    top3: FArr
    conf: FArr  # the chosen point's score over the total weight (1 = every weighted run equals it)
    conf2: FArr
    conf3: FArr
    wsum: FArr


def medoid(
    jobs: Jobs, past: IArr, decay: float = 0.9, a: float = 20.0, b: float = 5.0, h: int = H, chunk: int = 20000
) -> Medoid:
    """The metric-medoid: among the user's last ``h`` runtimes (capped at the request) and the request, the x
    maximising sum_k w_k exp(-|log x - log y_k|) = sum_k w_k min(x, y_k)/max(x, y_k), i.e. the point with the best
    weighted accuracy on the user's recent runs. w_k = decay^k (1 + a same_request)(1 + b same_request_and_procs).
    Also the second and third best distinct points and their scores (selector features)."""
    n = len(jobs.req)
    outs = {k: np.full(n, np.nan) for k in ("point", "top2", "top3", "conf", "conf2", "conf3", "wsum")}
    req, procs = jobs.req, jobs.procs
    lreq = np.where(np.isnan(req), np.inf, lg(np.nan_to_num(req, nan=1.0)))
    for s in range(0, n, chunk):
        sl = slice(s, s + chunk)
        idx = past[sl, :h]
        valid = idx >= 0
        safe = np.where(valid, idx, 0)
        q = np.where(valid, jobs.req[safe], np.nan)
        same_q = (q == req[sl, None]) | (np.isnan(q) & np.isnan(req[sl, None]))
        same_p = np.where(valid, jobs.procs[safe], np.nan) == procs[sl, None]
        w = (decay ** np.arange(h))[None, :] * (1 + a * same_q) * (1 + b * (same_q & same_p)) * valid
        y = np.where(valid, lg(jobs.run[safe]), 0.0)
        xs = np.concatenate([np.minimum(y, lreq[sl, None]), np.where(np.isinf(lreq[sl]), 0, lreq[sl])[:, None]], 1)
        xv = np.concatenate([valid, np.isfinite(lreq[sl])[:, None]], axis=1)
        val = np.where(xv, np.einsum("nj,nkj->nk", w, np.exp(-np.abs(xs[:, :, None] - y[:, None, :]))), -1.0)
        wsum = np.maximum(w.sum(1), 1e-9)
        k = val.argmax(1)
        xb = np.take_along_axis(xs, k[:, None], 1)
        outs["point"][sl] = np.where(valid[:, 0], np.exp(xb[:, 0]), np.nan)
        outs["conf"][sl] = val.max(1) / wsum
        outs["wsum"][sl] = w.sum(1)
        for t in ("2", "3"):
            val = np.where(np.abs(xs - xb) < 1e-9, -1.0, val)
            xb = np.take_along_axis(xs, val.argmax(1)[:, None], 1)
            ok = val.max(1) > 0
            outs["top" + t][sl] = np.where(ok, np.exp(xb[:, 0]), np.nan)
            outs["conf" + t][sl] = np.where(ok, val.max(1), 0) / wsum
    return Medoid(**outs)
