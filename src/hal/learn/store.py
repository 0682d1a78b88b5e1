"""Model files: a trained runtime predictor saved with its history, and loaded back or refused clearly.

A file is a zip with ``meta.json`` (format, version, input names, settings, the predictor's history),
one LightGBM text model per booster, and ``window.npz`` (the recent training rows, so retraining after a
load continues from the same data). meta.json also keeps when the next refit is due, how many fits made the model
and when the last ended, and ``origin``: ``live`` for a server's model (its times are epoch seconds of the accounting
records) or ``trace`` for one trained offline (hal.learn.provenance). Anything wrong gives ``ModelFileError`` saying
what and where; ``load_or_fallback`` turns that into last2 predictions and a warning, so a bad file never stops a
site. Only a regular file is opened: reading a FIFO named as a model blocked the start for good.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
import time
import zipfile
from collections import deque
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from hal.engine.api import RuntimePredictor
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.features import History, UserState
from hal.engine.predict.fingerprint import Fingerprint
from hal.engine.predict.gbm import INPUTS, SELECTED, GbmPredictor, Trainer, compile_trained
from hal.engine.predict.trees import GbmConfig
from hal.learn.model_meta import FORMAT, VERSION, check_meta, unsaid_reach
from hal.learn.model_meta import ModelFileError as ModelFileError  # raised by the readers; named from here
from hal.learn.provenance import EPOCH_2000, LIVE, ORIGINS, TRACE, Provenance, fits_by, next_fit

MAX_LOG_RATIO = 60.0  # |ln(real / predicted)| no run time reaches (1 s against a century is about 22)
MAX_SECONDS = 1e11  # beyond any run time or epoch time (the year 5138)
CLOCK_SLACK = 300.0  # a file learned this far past this host's clock is taken as written by a host a bit ahead
MAX_COUNT = 10**12  # beyond any count of runs or fits (a damaged meta.json said 1e30 and was saved back)


def history_to_json(h: History) -> dict[str, Any]:
    return {
        "users": {
            name: {
                "runs": [list(r) for r in u.runs],
                "completed": u.completed,
                "outstanding": u.outstanding,
                "outstanding_procs": u.outstanding_procs,
                "last_submit": u.last_submit,
                "last_end": u.last_end,
            }
            for name, u in h.users.items()
        },
        "codes": [[k, v, c] for (k, v), c in h.codes.items()],
        "same": [[u, q, p, r, n] for (u, q, p), (r, n) in h.same.items()],
        "same_limit": [[u, q, r] for (u, q), r in h.same_limit.items()],
        "same_procs": [[u, p, r] for (u, p), r in h.same_procs.items()],
        "recent": list(h.recent),
    }


def history_from_json(data: dict[str, Any]) -> History:
    """The saved history; a value no run or clock can have (NaN, 1e308, a negative time) is a ValueError naming
    it, so a damaged file is refused instead of being planned with and written back at the next save."""
    h = History()
    for name, u in data["users"].items():
        state = UserState()
        where = f"history.users[{name!r}]"
        state.runs.extend((_time(r, f"{where}.runs"), _time(q, f"{where}.runs", none=-1.0)) for r, q in u["runs"])
        # Outstanding counts start at zero: a restarted controller submits its pending and running jobs again.
        state.completed = _count(u["completed"], f"{where}.completed")
        # -1: none yet (UserState's own default), e.g. a user whose every job was still running when it was saved
        state.last_submit = _time(u["last_submit"], f"{where}.last_submit", none=-1.0)
        state.last_end = _time(u["last_end"], f"{where}.last_end", none=-1.0)
        h.users[name] = state
    h.codes = {(int(k), str(v)): _count(c, "history.codes") for k, v, c in data["codes"]}
    h.same = {
        (str(u), _time(q, "history.same", none=-1.0), int(p)): (_time(r, "history.same"), _count(n, "history.same"))
        for u, q, p, r, n in data["same"]
    }
    h.same_limit = {(str(u), _time(q, "history.same_limit", none=-1.0)): _time(r, "history.same_limit")
                    for u, q, r in data["same_limit"]}  # fmt: skip
    h.same_procs = {(str(u), int(p)): _time(r, "history.same_procs") for u, p, r in data["same_procs"]}
    for value in data["recent"]:
        v = float(value)
        if not abs(v) <= MAX_LOG_RATIO:  # log seconds; NaN fails the comparison too
            raise ValueError(f"history.recent holds {v!r}, not a log run time")
        if len(h.recent) == h.recent.maxlen:
            h.recent_sum -= h.recent[0]
        h.recent.append(v)
        h.recent_sum += v
    return h


def _time(value: Any, field: str, none: float | None = None) -> float:
    """Seconds (a run time, a request, an epoch time): finite, from 0 to MAX_SECONDS, or ``none`` (-1: no request)."""
    v = float(value)
    if not (0.0 <= v <= MAX_SECONDS or v == none):  # NaN fails both
        raise ValueError(f"{field} holds {v!r}, not a number of seconds")
    return v


def _count(value: Any, field: str) -> int:
    n = int(value)
    if not 0 <= n <= MAX_COUNT:
        raise ValueError(f"{field} holds {n!r}, not a count")
    return n


def save_model(predictor: GbmPredictor, path: str | Path, made: Provenance | None = None) -> None:
    """Write the predictor's current model, settings, history and training window, through a temporary file
    renamed over ``path``: a write that fails (a full disk) leaves the model that was there. ``made``: its fits and
    origin as the live server counted them; without it (an offline replay) a ``trace`` model whose fits are those
    the schedule made, the last one taken as just now. ``path`` must be a regular file or nothing yet (a symlink:
    the file it points to), see ``save_target``."""
    model = predictor.current()  # a fit finished after the last prediction is saved too
    if model is None:
        raise ModelFileError("nothing to save: the predictor has no trained model yet (too few completions)")
    target = save_target(path)
    if made is None:
        made = Provenance(max(fits_by(predictor.cfg, predictor.completions), 1), time.time(), TRACE)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "inputs": list(INPUTS),
        "mode": model.mode,
        "samples": model.samples,
        "boosters": len(model.texts),
        "selected": list(SELECTED),
        "config": asdict(predictor.cfg),
        "upper_factor": predictor.upper_factor,
        "completions": predictor.completions,
        "learned_until": predictor.learned_until,
        **({"learned_jobs": predictor.learned.to_json()} if predictor.learned is not None else {}),
        "seen": predictor.seen,
        "next_train": predictor.next_train,
        "fits": made.fits,
        "fitted_at": made.fitted_at or time.time(),
        "origin": made.origin,
        "history": history_to_json(predictor.history),
    }
    window = io.BytesIO()
    np.savez_compressed(
        window,
        inputs=np.asarray(list(predictor.inputs), dtype=np.float64),
        targets=np.asarray(predictor.targets),
        residuals=np.asarray(predictor.residuals, dtype=np.float64),  # the p90 spread survives a restart
        # inputs frozen at submission of jobs not ended yet: a restart learns them when they end
        pending_ids=np.asarray(list(predictor.pending), dtype=np.int64),
        pending_inputs=np.asarray([x for x, _ in predictor.pending.values()], dtype=np.float64).reshape(
            len(predictor.pending), len(INPUTS)
        ),
        pending_guess=np.asarray([np.nan if g is None else g for _, g in predictor.pending.values()], np.float64),
    )
    members = {f"booster_{i}.txt": text.encode() for i, text in enumerate(model.texts)}
    members["window.npz"] = window.getvalue()
    meta["sha256"] = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # owner-only whatever the umask: it
        os.fchmod(fd, 0o600)  # holds users' names and runtimes (a leftover temporary file kept its mode)
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(meta))
            for name, data in members.items():
                zf.writestr(name, data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelFileError(f"cannot write the model to {target}: {exc.strerror or exc}") from None


def save_target(path: str | Path) -> Path:
    """Where a model saved to ``path`` goes: ``path``, or the file a symlink there points to (the link is kept,
    as most tools write through one). Anything else there (a device, a FIFO, a socket, a folder) is a
    ModelFileError and is left as it is: the rename over it replaced /dev/full itself with a zip (as root)."""
    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:  # a symlink loop, a folder that cannot be searched
        raise ModelFileError(f"cannot write the model to {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise ModelFileError(
            f"cannot write the model to {path}: it is {_kind(mode)}, not a regular file (left as it is)"
        )
    return target


def load_model(path: str | Path, trainer: Trainer | None = None, now: float | None = None) -> GbmPredictor:
    """A predictor ready to go on predicting and learning; ``ModelFileError`` says why not. ``now`` (the caller's
    clock): a file that has learned runs ending later than that is refused, as a restart relearns only the
    records past that time and would never learn again."""
    return read_model(path, trainer, now)[0]


def read_model(
    path: str | Path, trainer: Trainer | None = None, now: float | None = None
) -> tuple[GbmPredictor, Provenance]:
    """``load_model``, with the model's fits and origin (a file without them: its fits as the schedule made them,
    the last taken as when the file was written, and a trace's when its times are before 2000)."""
    where = str(path)
    try:
        with _regular(path, where) as raw, zipfile.ZipFile(raw) as zf:
            written = os.fstat(raw.fileno()).st_mtime
            meta = json.loads(_read(zf, "meta.json", where))
            check_meta(meta, where)
            names = [f"booster_{i}.txt" for i in range(int(meta["boosters"]))]
            data = {name: _verified(zf, name, meta, where) for name in [*names, "window.npz"]}
            texts = [data[name].decode() for name in names]
            rows, targets, residuals, frozen = _window(data["window.npz"])
    except FileNotFoundError as exc:
        raise ModelFileError(f"model file not found: {where}") from exc
    except ModelFileError:
        raise
    except Exception as exc:  # damaged bytes fail zipfile, its decompressors and json in many ways (_read)
        raise ModelFileError(f"{where} is not a readable HAL model file ({_reason(exc)})") from exc
    try:
        # Every value read from the file is converted here, so a damaged field is refused like a damaged booster.
        known = {f.name for f in fields(GbmConfig)}
        cfg = GbmConfig(**{k: v for k, v in meta["config"].items() if k in known})
        model = compile_trained(str(meta["mode"]), texts, _count(meta["samples"], "samples"))
        history = history_from_json(meta["history"])
        upper_factor = float(meta["upper_factor"])
        completions = _count(meta["completions"], "completions")
        learned_until = float(meta["learned_until"]) if "learned_until" in meta else unsaid_reach(history)
        # which runs it learned; a file written before it was kept does not say (None: matched by times alone)
        learned = Fingerprint.from_json(meta["learned_jobs"]) if "learned_jobs" in meta else None
        inputs = [[float(v) for v in r] for r in rows.tolist()]
        outputs = [float(v) for v in targets.tolist()]
        errors = [float(v) for v in residuals.tolist() if math.isfinite(v)]
        if any(abs(v) > MAX_LOG_RATIO for v in errors):  # exp() of it overflowed in the p90 spread: a traceback
            raise ValueError(f"a residual is beyond +-{MAX_LOG_RATIO:g} (a log ratio of real to predicted run time)")
        ids, xs, guesses = frozen
        if len(ids) != len(xs) or len(ids) != len(guesses) or (len(xs) and len(xs[0]) != len(INPUTS)):
            raise ValueError("its unfinished jobs' inputs do not match its inputs")
        pending = {
            int(j): ([float(v) for v in x], None if math.isnan(g) else float(g))
            for j, x, g in zip(ids.tolist(), xs.tolist(), guesses.tolist(), strict=True)
        }
        seen = _count(meta.get("seen", len(errors)), "seen")
        if any(len(r) != len(INPUTS) for r in inputs) or len(inputs) != len(outputs):
            raise ValueError("its training window does not match its inputs")
        if not (math.isfinite(upper_factor) and upper_factor >= 1.0):  # a NaN here failed every prediction
            raise ValueError(f"upper_factor must be a finite number >= 1, not {upper_factor!r}")
        if not (math.isfinite(learned_until) and learned_until >= 0.0):
            raise ValueError(f"learned_until {learned_until!r} out of range")
        if max(len(outputs), model.samples, seen) > completions:  # each counts completions learned
            raise ValueError(f"completions {completions!r} is fewer than the runs its window and model hold")
        next_train, made = _provenance(meta, cfg, completions, learned_until, written)
    except Exception as exc:  # the tree reader's ValueError, a converter's TypeError, a too deep tree's RecursionError
        raise ModelFileError(f"{where}: the model inside is damaged ({_reason(exc)})") from exc
    if now is not None and learned_until > now + CLOCK_SLACK:  # meta.json carries no checksum of its own
        raise ModelFileError(
            f"{where} has learned runs up to {_utc(learned_until)}, {learned_until - now:.0f} s past this host's "
            f"clock ({_utc(now)}): its clock was stepped back or the file came from a host whose clock runs ahead; "
            "runs ending before then would never be learned"
        )
    # Named by what it is, whatever name the caller asked for: a regress model reports as gbm-regress.
    name = "gbm" if cfg.mode == "select" else "gbm-regress"
    kwargs: dict[str, Any] = {"cfg": cfg, "history": history, "model": model, "name": name}
    if trainer is not None:
        kwargs["trainer"] = trainer
    pred = GbmPredictor(**kwargs)
    pred.upper_factor = upper_factor
    pred.completions = completions
    pred.learned_until = learned_until
    pred.learned = learned
    pred.residuals.extend(errors)
    pred.seen = seen
    pred.pending = pending
    pred.next_train = next_train  # where the file left it: a restart used to push it back a whole retrain_every
    pred.inputs = deque(inputs, maxlen=cfg.window)
    pred.targets = deque(outputs, maxlen=cfg.window)
    return pred, made


def _provenance(
    meta: dict[str, Any], cfg: GbmConfig, completions: int, learned_until: float, written: float
) -> tuple[int, Provenance]:
    """The next refit and the fits and origin the file keeps; a file written before it kept them gets those its
    schedule gives, the file's own time as its last fit's, and the origin its times tell."""
    if "next_train" in meta:
        next_train = _count(meta["next_train"], "next_train")
        if not completions < next_train <= completions + cfg.retrain_every:
            raise ValueError(f"next_train {next_train!r} is not within retrain_every after {completions} completions")
    else:
        next_train = next_fit(cfg, completions)
    fits = _count(meta["fits"], "fits") if "fits" in meta else max(fits_by(cfg, completions), 1)
    if not 1 <= fits <= max(completions, 1):
        raise ValueError(f"fits {fits!r} out of range for {completions} completions")
    fitted_at = _time(meta.get("fitted_at", 0.0), "fitted_at") or written
    origin = meta.get("origin", TRACE if learned_until < EPOCH_2000 else LIVE)
    if origin not in ORIGINS:
        raise ValueError(f"origin {origin!r} is none of {list(ORIGINS)}")
    return next_train, Provenance(fits, fitted_at, str(origin))


def _regular(path: str | Path, where: str) -> io.BufferedReader:
    """The file opened for reading if it is a regular one; a FIFO (opened without waiting for a writer), a device
    or a folder is refused: reading one blocked forever, deaf to SIGTERM."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ModelFileError(f"{where} is {_kind(mode)}, not a regular file: not a HAL model file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    """What a file that is not a regular one is, for messages."""
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "special")


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _verified(zf: zipfile.ZipFile, name: str, meta: dict[str, Any], where: str) -> bytes:
    """A member whose bytes match the checksum saved with them, so damage is named as such. Booster texts that
    match but are still invalid (another LightGBM, another tool) are refused by hal.engine.predict.treetext:
    LightGBM itself aborts the whole process on some of them."""
    data = _read(zf, name, where)
    table = meta.get("sha256")
    if not isinstance(table, dict):  # no checksum was saved to compare with (QA: it was called a mismatch)
        raise ModelFileError(f"{where}: meta.json records no checksums (not a file HAL wrote, or damaged)")
    want = table.get(name)
    if want is None:
        raise ModelFileError(f"{where}: meta.json records no checksum for {name} (not a file HAL wrote, or damaged)")
    if hashlib.sha256(data).hexdigest() != want:
        raise ModelFileError(f"{where}: {name} is damaged (its checksum does not match the one saved with it)")
    return data


def _read(zf: zipfile.ZipFile, name: str, where: str) -> bytes:
    """A member's bytes, or a ModelFileError naming the one missing. Damaged compressed data fails in many ways
    (zlib.error, EOFError, a bad CRC, an unknown compression method, an encryption flag: NotImplementedError,
    RuntimeError), each one a ModelFileError."""
    try:
        return zf.read(name)
    except KeyError:  # zipfile's own words ("There is no item named ...") read as garbage after ours (QA)
        if name == "meta.json":
            raise ModelFileError(f"{where} is not a HAL model: meta.json missing from the archive") from None
        raise ModelFileError(f"{where}: {name} missing from the archive (an incomplete HAL model file)") from None
    except Exception as exc:
        raise ModelFileError(f"{where}: {name} is damaged ({_reason(exc)})") from exc


def _window(data: bytes) -> tuple[Any, Any, Any, tuple[Any, Any, Any]]:
    """The saved training rows and targets; numpy's own complaint about other bytes speaks of pickles."""
    try:
        window = np.load(io.BytesIO(data), allow_pickle=False)
        residuals = window["residuals"] if "residuals" in window.files else np.zeros(0)  # older files: none
        frozen = (
            (window["pending_ids"], window["pending_inputs"], window["pending_guess"])
            if "pending_ids" in window.files
            else (np.zeros(0, np.int64), np.zeros((0, len(INPUTS))), np.zeros(0))
        )
        return window["inputs"], window["targets"], residuals, frozen
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError("its training window (window.npz) is damaged") from exc


def _reason(exc: Exception) -> str:
    """The error in a reader's words: a missing member is named (KeyError's text is only the quoted key), and
    the parsers' own phrases ("Expecting value: line 1 column 1 (char 0)") say which part could not be read."""
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!s}" if exc.args else "a member is missing"
    if isinstance(exc, json.JSONDecodeError):
        return f"meta.json is not valid JSON at line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, zipfile.BadZipFile):
        return f"not a whole zip archive: {exc}"
    return str(exc)


def load_or_fallback(
    path: str | Path, trainer: Trainer | None = None, now: float | None = None
) -> tuple[RuntimePredictor, str | None]:
    """The saved model, or last2 with the reason when the file cannot be used."""
    try:
        return load_model(path, trainer, now), None
    except ModelFileError as exc:
        return LastTwo(), f"{exc}; falling back to last2 predictions"
