"""Where a saved model stands: when it is refitted next, how many fits made it and when the last one was, and which
clock its times are on. Kept in the model file, so a restart changes nothing about when refits happen (it pushed the
next one back a whole ``retrain_every``), and derived from the refit schedule for files written before they were."""

from __future__ import annotations

from dataclasses import dataclass

from hal.engine.predict.trees import GbmConfig

LIVE, TRACE = "live", "trace"  # a server's accounting records (epoch seconds); a trace replayed offline
ORIGINS = (LIVE, TRACE)
# A file that does not say: times before 2000-01-01 (epoch seconds) are a trace's own clock, counted from its
# start (an SWF export begins at 0), never a live server's.
EPOCH_2000 = 946_684_800.0


@dataclass(frozen=True, slots=True)
class Provenance:
    """The fits behind a saved model (``fits`` that succeeded over its whole life, ``fitted_at`` the epoch time
    the one in use ended; 0: not known) and ``origin``, the clock its ``learned_until`` is on."""

    fits: int = 0
    fitted_at: float = 0.0
    origin: str = TRACE


def _cycle(cfg: GbmConfig) -> int:
    """The completion count the regular refits count from: the early refit when it comes before the first regular
    one (GbmPredictor.observe), else the warm-up fit."""
    early, warmup = cfg.early_retrain, cfg.warmup
    return early if warmup < early < warmup + cfg.retrain_every else warmup


def next_fit(cfg: GbmConfig, completions: int) -> int:
    """The first refit the schedule places after ``completions`` (500, 2,500, then every 10,000 for gbm)."""
    anchor = _cycle(cfg)
    if completions < cfg.warmup:
        return cfg.warmup
    if completions < anchor:
        return anchor
    return anchor + cfg.retrain_every * ((completions - anchor) // cfg.retrain_every + 1)


def fits_by(cfg: GbmConfig, completions: int) -> int:
    """How many fits the schedule made in the first ``completions`` (a file that did not count them)."""
    anchor = _cycle(cfg)
    if completions < cfg.warmup:
        return 0
    if completions < anchor:
        return 1
    return (2 if anchor > cfg.warmup else 1) + (completions - anchor) // cfg.retrain_every
