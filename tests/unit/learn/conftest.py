"""Shared inputs for the learning tests: the shipped KTH sample, replayed as its real history."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.engine.predict.trees import GbmConfig
from hal.learn.evaluate import History, trace_history

SAMPLE = Path(__file__).resolve().parents[3] / "src" / "hal" / "data" / "kth-sp2-sample.swf"
SMALL = GbmConfig(warmup=200, retrain_every=400, window=2000, rounds=10)  # retrains several times on 3,000 jobs


@pytest.fixture(scope="session")
def sample_history() -> History:
    return trace_history(SAMPLE)
