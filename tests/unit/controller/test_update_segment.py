"""`hal update JOB Segment=...` checks the value as `hal submit --segment` does (QA): Segment=0 was accepted and
dropped the segment where --segment=0 is refused, and Segment= (nothing, which clears Switches= and Topology=)
was refused naming --Segment=''. Now 0 is refused and nothing drops it, as scontrol's empty values do."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.option_values import DirectiveError
from hal.controller.update import update
from tests.unit.controller.topokit import ADMIN, BLOCKS, controller, submit


def test_segment_zero_is_refused_and_nothing_clears_it(tmp_path: Path) -> None:
    with controller(tmp_path, BLOCKS) as ctl:
        with pytest.raises(DirectiveError, match="--segment=0 must be >= 1"):  # as sbatch refuses it
            submit(ctl, tmp_path, nodes="4", segment="0")
        job = submit(ctl, tmp_path, nodes="4", segment="2", hold="1")

        def segment() -> int | None:
            return ctl.live[job].spec.segment  # type: ignore[no-any-return]

        with pytest.raises(SubmitError, match=r"Segment=0: --segment=0 must be >= 1 \(Segment= with nothing"):
            update(ctl, str(job), ADMIN, {"Segment": "0"})
        assert segment() == 2  # refused: unchanged
        update(ctl, str(job), ADMIN, {"Segment": "4"})
        assert segment() == 4
        update(ctl, str(job), ADMIN, {"Segment": ""})
        assert segment() is None
        update(ctl, str(job), ADMIN, {"Segment": "2"})
        update(ctl, str(job), ADMIN, {"Segment": "none"})
        assert segment() is None
