"""A model's record of the runs it learned keeps when the first of them was submitted, so a model on the epoch clock
(a live server's) is put on a trace's own clock by its UnixStartTime only when it says from when it learned: every
archive trace's header gives a 1990s start, and a live model would otherwise seem to have seen them all (QA)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hal.cli.sim_model import overlap_note
from hal.engine.predict.fingerprint import Fingerprint
from hal.learn.clocks import Reach
from hal.sim.swf import SwfTrace


def test_since_is_kept_and_an_older_record_does_not_say() -> None:
    record = Fingerprint.from_json(Fingerprint(3, 7, 1.7e9).to_json())
    assert record.since == 1.7e9 and record == Fingerprint(3, 7)
    assert Fingerprint.from_json({"jobs": 3, "digest": "0" * 16}).since is None
    assert Fingerprint.from_json({"jobs": 0, "digest": "0" * 16}).since == math.inf
    with pytest.raises(ValueError, match="is not a time"):
        Fingerprint.from_json({"jobs": 3, "digest": "0" * 16, "since": float("nan")})


def test_an_epoch_model_is_put_on_a_traces_clock_only_when_it_says_from_when(tmp_path: Path) -> None:
    trace = SwfTrace(header={"UnixStartTime": "1700000000"})
    jobs = [100.0, 200.0]  # 1,700,000,100 and 1,700,000,200 on the epoch
    assert overlap_note(tmp_path / "m.zip", Reach(1_700_000_150.0, 1_700_000_000.0), jobs, trace) is not None
    assert overlap_note(tmp_path / "m.zip", Reach(1_700_000_150.0, None), jobs, trace) is None  # old: cannot tell
    assert overlap_note(tmp_path / "m.zip", Reach(1_700_000_150.0, 1_700_000_120.0), jobs, trace) is None
    archive = SwfTrace(header={"UnixStartTime": "843480031"})  # KTH's 1996 start, long before the model learned
    assert overlap_note(tmp_path / "m.zip", Reach(1_700_000_150.0, 1_700_000_000.0), jobs, archive) is None
    epoch = [1_700_000_100.0]  # a trace in epoch times: one clock with the model's, since or not
    assert overlap_note(tmp_path / "m.zip", Reach(1_700_000_150.0, None), epoch, archive) is not None
