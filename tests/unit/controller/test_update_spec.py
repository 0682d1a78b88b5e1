"""hal update refuses, with a message, a change the engine's job checks reject (it answered HTTP 500)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.update import update
from tests.unit.controller.topokit import ADMIN, BLOCKS, controller, submit


def test_a_node_count_its_segment_does_not_divide_is_refused(tmp_path: Path) -> None:
    """QA: -N8 --segment=4, then NumNodes=6 NumTasks=6: a ValueError from JobSpec became Internal Server Error."""
    with controller(tmp_path, BLOCKS) as ctl:
        job = submit(ctl, tmp_path, nodes="8", cpus_per_task="2", segment="4", time="1:00", hold="1")
        with pytest.raises(SubmitError, match=r"NumNodes=6 is not a multiple of its --segment=4"):
            update(ctl, str(job), ADMIN, {"NumNodes": "6", "NumTasks": "6"})
        assert update(ctl, str(job), ADMIN, {"NumNodes": "12", "NumTasks": "12"}) == [job]  # a multiple: taken
        assert ctl.live[job].spec.nodes == 12
        with pytest.raises(SubmitError, match=r"NumTasks=4 with NumNodes=12"):  # fewer tasks than nodes
            update(ctl, str(job), ADMIN, {"NumTasks": "4"})
