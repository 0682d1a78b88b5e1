"""QA: `hal update JOB Segment=8` on a -N4 job on 4-node blocks said "NumNodes=4 is not a multiple of its
--segment=8"; what hal submit says, and the real reason, is that no block holds a segment of 8. (Since 5bc1010 a
segment larger than the job is ignored, as in Slurm, so the case is a 12-node job.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.update import update
from tests.unit.controller.topokit import ADMIN, BLOCKS, controller, submit


def test_a_segment_no_block_holds_is_said_so_before_the_multiple_rule(tmp_path: Path) -> None:
    with controller(tmp_path, BLOCKS) as ctl:
        wide = submit(ctl, tmp_path, nodes="12", time="1:00", hold="1")  # 8 <= 12 nodes: not ignored (5bc1010)
        with pytest.raises(SubmitError, match="a segment must fit inside one block, and the largest holds 4 nodes"):
            update(ctl, str(wide), ADMIN, {"Segment": "8"})
        job = submit(ctl, tmp_path, nodes="4", time="1:00", hold="1")
        with pytest.raises(SubmitError, match=r"NumNodes=4 is not a multiple of its --segment=3"):
            update(ctl, str(job), ADMIN, {"Segment": "3"})  # a block holds 3: the multiple rule is what refuses
        assert ctl.live[job].request.segment in (None, 0)
