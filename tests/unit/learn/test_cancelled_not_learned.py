"""A model saved from a window of a trace with cancelled runs (not learned, as the live server learns none) is still
recognised as having learned this trace's jobs when it is continued: its record of learned runs leaves the cancels
out, and so does the match."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hal.controller.censored import learnable
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History, evaluate, reach_of
from hal.learn.store import load_model, save_model
from hal.sim.accounting import STATUS
from hal.sim.swf import SwfTrace
from hal.sim.trace_notes import EXPORTED
from hal.sim.workload import cut_short
from tests.unit.learn.conftest import SMALL


def test_a_model_continued_on_a_trace_with_cancels_predicts_as_one_run(sample_history: History, tmp_path: Path) -> None:
    """The model never learned the cancels, so its record of learned runs leaves them out: the continued run still
    matches this trace and skips them, as one run over the trace would have forgotten them."""
    jobs = [replace(j, cut_short=i % 7 == 3) for i, j in enumerate(sample_history.jobs)]
    history = History(jobs, sample_history.ends)
    first = GbmPredictor(SMALL)
    evaluate(history, first, "kth", (0, 1500), to_save=True)
    save_model(first, tmp_path / "m.zip")
    loaded = load_model(tmp_path / "m.zip")
    continued = evaluate(history, loaded, "kth", (1500, 1500), reach=reach_of(loaded))
    single = evaluate(history, GbmPredictor(SMALL), "kth", (1500, 1500))
    assert continued.other_jobs == 0 and continued.already_learned > first.completions
    np.testing.assert_array_equal(continued.predictions, single.predictions)
    assert loaded.completions == sum(not j.cut_short for j in jobs)


@pytest.mark.parametrize("state", ["COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL"])
def test_an_exported_status_is_learned_as_the_server_learned_its_run(state: str) -> None:
    exported = SwfTrace(header={"Installation": EXPORTED})
    assert cut_short(STATUS.get(state, 0), exported) == (state == "CANCELLED")  # hal history --swf: 0 for any other
    assert not cut_short(STATUS.get(state, 0), SwfTrace())  # an archive trace: every run learned, as published
    assert not learnable("CANCELLED") and learnable("FAILED")
