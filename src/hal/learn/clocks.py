"""Whether a saved model's clock and a trace's are one, so that "has this model seen the jobs scored?" can be asked.

A model's times are epoch seconds when it learned a live server's records, or a trace whose times are epoch seconds;
otherwise a trace's own clock, counted from the trace's start. A trace's times are epoch seconds when they are past
2000; otherwise they are its own clock, which its UnixStartTime header puts on the epoch (hal history --swf writes
times from the first submission, and that header). Times on one clock compare as they are (QA: a model saved from an
epoch-time trace was skipped as a live server's, and scored its own jobs with no note). A trace's own clock is put on
a model's epoch clock only when the model says when the runs it learned were submitted (``Fingerprint.since``): every
archive trace's header gives a 1990s start, and without that bound a live model would seem to have seen them all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hal.engine.predict.gbm import GbmPredictor
from hal.learn.provenance import EPOCH_2000
from hal.sim.swf import HeaderError, SwfTrace


@dataclass(frozen=True, slots=True)
class Reach:
    """What a saved model learned, on its own clock: the runs submitted from ``since`` (None: a file too old to say)
    that ended by ``until``."""

    until: float
    since: float | None

    @staticmethod
    def of(pred: GbmPredictor) -> Reach:
        return Reach(pred.learned_until, pred.learned.since if pred.learned is not None else None)

    @property
    def epoch(self) -> bool:
        return self.until >= EPOCH_2000


def unix_start(trace: SwfTrace) -> float | None:
    """The epoch time the trace's own clock starts at (its UnixStartTime header), None when it gives none."""
    try:
        start = trace.header_number("UnixStartTime")
    except HeaderError:  # said by hal trace check; no clock to go by
        return None
    return float(start) if start else None


def shift(reach: Reach, submits: Sequence[float], trace: SwfTrace | None) -> float | None:
    """What to add to the trace's times (``submits``, any of its jobs) to put them on the model's clock: 0 when they
    are on one, its UnixStartTime when the model's is the epoch and says from when it learned; None when they cannot
    be compared (a model of a trace's own clock and a trace in epoch times, say)."""
    if not submits:
        return None
    if reach.epoch == (min(submits) >= EPOCH_2000):
        return 0.0
    start = unix_start(trace) if trace is not None and reach.epoch and reach.since is not None else None
    return start


def seen(reach: Reach, submits: Sequence[float], trace: SwfTrace | None) -> int:
    """How many of the jobs submitted at ``submits`` (the trace's times) the model may have learned: submitted, on its
    clock, from the first run it learned (any time, for a file that does not say) to the last end it learned."""
    offset = shift(reach, submits, trace)
    if offset is None or reach.until <= 0:
        return 0
    since = -math.inf if reach.since is None else reach.since
    return sum(1 for t in submits if since <= t + offset <= reach.until)


def same_clock(pred: GbmPredictor, submits: Sequence[float]) -> bool:
    """Whether the model's times and the trace's are on one clock as they are (both its own, or both the epoch): only
    then can the jobs it learned be matched with the trace's by their times (hal.learn.evaluate.reach_of)."""
    return shift(Reach.of(pred), submits, None) == 0.0
