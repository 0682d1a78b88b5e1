"""Whether a run's gbm never planned with a model of its own, so every prediction was last2's though the run says
gbm: the one test behind `hal simulate`'s and `hal compare`'s stderr note (sim/runner.py) and the JSON outputs'
``fallback`` (cli/sim_json.py), and the one account of why. A module of its own so the JSON side does not import
the whole runner."""

from __future__ import annotations

from hal.engine.predict.gbm import GbmPredictor


def unfitted_gbm(predictor: object) -> GbmPredictor | None:
    """``predictor`` when it is a gbm whose predictions were all its fallback's, else None. A fitted model is
    installed by the next prediction (or a live server's status read; a simulation has none), so a gbm without one
    made none after its first fit was ready."""
    return predictor if isinstance(predictor, GbmPredictor) and predictor.model is None else None


def late_fit(gbm: GbmPredictor) -> str | None:
    """Why a gbm that learned its whole warm-up planned nothing (None when it learned fewer runs: it never fitted).
    The first fit is due at the warm-up's last completion; a simulation fits it there and then, but no job was
    submitted after it (a run of ``warmup`` jobs always: its last completion follows every submission)."""
    done, warmup = gbm.completions, gbm.cfg.warmup
    if done < warmup:
        return None
    return f"first fit, due at completion {warmup:,} of the {done:,} learned, was ready only after the last prediction"
