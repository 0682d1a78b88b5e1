"""An empty trace says it has no jobs, not that the machine size is unknown (QA: "pass --procs")."""

from __future__ import annotations

import io

import pytest

from hal.sim.swf import read_swf
from hal.sim.workload import to_workload


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "the trace has no jobs: nothing to replay"),
        ("; Computer: nothing ran\n", "the trace has no jobs: nothing to replay"),
        ("1 2 3\n", r"the trace has no jobs \(1 line\(s\) could not be read\): nothing to replay"),
    ],
)
def test_a_trace_without_jobs_says_so(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        to_workload(read_swf(io.StringIO(text)))


def test_jobs_without_a_machine_size_still_ask_for_procs() -> None:
    with pytest.raises(ValueError, match="machine size unknown"):
        to_workload(read_swf(io.StringIO("1 0 0 10 -1 -1 -1 -1 20 -1 1 1 1 1 -1 1 -1 -1\n")))
    assert to_workload(read_swf(io.StringIO("")), capacity=8).jobs == []  # --procs given: nothing to run, no error
