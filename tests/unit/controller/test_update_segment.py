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


def test_a_segment_larger_than_the_job_is_ignored_as_at_submission(tmp_path: Path) -> None:
    """Submission ignores a --segment larger than -N, as Slurm does (c21a912); the update refused Segment=8 on a
    4-node job, and NumNodes= below its segment."""
    with controller(tmp_path, BLOCKS) as ctl:
        job = submit(ctl, tmp_path, nodes="4", segment="2", hold="1")
        update(ctl, str(job), ADMIN, {"Segment": "8"})
        assert ctl.live[job].spec.segment is None
        update(ctl, str(job), ADMIN, {"Segment": "4"})
        update(ctl, str(job), ADMIN, {"NumNodes": "2", "NumTasks": "2"})
        assert ctl.live[job].spec.segment is None and ctl.live[job].spec.nodes == 2
        with pytest.raises(SubmitError, match="not a multiple of its --segment=2"):
            update(ctl, str(job), ADMIN, {"NumNodes": "3", "NumTasks": "3", "Segment": "2"})
