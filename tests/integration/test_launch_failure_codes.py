"""Jobs that fail at launch never ran their script: Slurm reports ExitCode 1:0 for them, not 0:0 (QA F11a). A
launch that fails for the node's fault (its CPUs cannot be pinned) names the node to drain (QA F5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.executors.api import NodeShare
from hal.executors.local import LocalExecutor
from hal.model.job import JobState
from tests.integration.test_local_executor import make_spec, wait_end


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(tmp_path / "spool", kill_wait=0.5, watch_interval=0.2, liveness_interval=0.1)
    yield executor
    executor.shutdown(cancel_running=True)


def test_a_cpuset_the_host_lacks_fails_with_1_and_names_the_node_to_drain(
    ex: LocalExecutor,
    tmp_path: Path,
) -> None:
    ex.launch(make_spec(1, "#!/bin/sh\necho ran\n", tmp_path, shares=(NodeShare("vn003", (999,), 0),)))
    ended = wait_end(ex, 1)
    assert ended.state is JobState.FAILED and ended.exit_code == 1 and ended.signal is None
    assert "cannot pin to CPUs [999]" in ended.reason and ended.drain_node == "vn003"


def test_a_job_failing_for_its_own_reasons_fails_with_1_and_drains_nothing(
    ex: LocalExecutor,
    tmp_path: Path,
) -> None:
    ex.launch(make_spec(2, "#!/bin/sh\necho ran\n", tmp_path / "gone"))
    ex.launch(make_spec(3, "#!/bin/sh\necho ran\n", tmp_path, stdout=str(tmp_path / "no" / "such" / "out")))
    ex.launch(make_spec(4, "   \n", tmp_path))  # refused by the executor itself
    for job_id, why in ((2, "working directory"), (3, "launch failed"), (4, "script refused")):
        ended = wait_end(ex, job_id)
        assert ended.state is JobState.FAILED and ended.exit_code == 1, ended
        assert why in ended.reason and ended.drain_node == ""
