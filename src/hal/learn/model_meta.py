"""What a model file's meta.json must say before its members are read (format, version, inputs, mode), and what a
file that does not say how far it learned is taken to have learned (hal.learn.store reads the rest)."""

from __future__ import annotations

import json

from hal.engine.predict.features import History
from hal.engine.predict.gbm import INPUTS, SELECTED
from hal.learn.provenance import EPOCH_2000

FORMAT = "hal-runtime-model"
VERSION = 2  # 2: meta.json holds each member's sha256 (a damaged tree text crashed LightGBM natively)
BOOSTERS = {"select": len(SELECTED), "regress": 1}  # boosters a model of each mode holds


class ModelFileError(Exception):
    """A model file that cannot be used: missing, corrupt, or made for other features or versions."""


def unsaid_reach(history: History) -> float:
    """``learned_until`` for a file written before it was kept: unknown, so the latest submission its per-user
    history saw (it cannot have learned a job it never saw submitted, and the replay that saw that submission had
    learned every run ending before it). Taken as 0 it said "learned nothing", so scoring the trace it was trained
    on gave no "results inflated" note (QA: 0.654 against 0.532 honest). Times on a live server's clock keep 0: a
    restart then relearns every accounting record, as it did for these files."""
    latest = max((u.last_submit for u in history.users.values()), default=0.0)
    return latest if 0.0 < latest < EPOCH_2000 else 0.0


def check_meta(meta: object, where: str) -> None:
    if not isinstance(meta, dict):
        raise ModelFileError(f"{where} is not a HAL runtime model (its meta.json is not an object)")
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{where} is not a HAL runtime model (format {meta.get('format')!r})")
    version = meta.get("version")
    if type(version) is not int or version != VERSION:  # "2" and 2.0 are not 2; True == 1 in Python
        raise ModelFileError(f"{where} has model version {_version(version)}; this HAL reads version {VERSION}")
    if meta.get("inputs") != list(INPUTS):
        raise ModelFileError(f"{where} was trained on other features than this HAL computes; retrain it")
    mode = meta.get("mode")
    if mode not in BOOSTERS:
        raise ModelFileError(f"{where} has an unknown model mode {mode!r}; this HAL knows {sorted(BOOSTERS)}")
    if mode == "select" and meta.get("selected") != list(SELECTED):
        raise ModelFileError(f"{where} chooses among other candidates than this HAL ({list(SELECTED)}); retrain it")
    if meta.get("boosters") != BOOSTERS[mode]:
        raise ModelFileError(
            f"{where} holds {meta.get('boosters')!r} boosters; a {mode} model has {BOOSTERS[mode]}; retrain it"
        )


def _version(value: object) -> str:
    """The version as the file has it, its type named when it is not an integer: a bare "2" next to "reads
    version 2" contradicted itself."""
    if value is None:
        return "none (meta.json names none)"
    if isinstance(value, str):
        return f"{value!r} (text, not a number)"
    if type(value) is not int:
        return f"{json.dumps(value)} (not an integer)"
    return str(value)
