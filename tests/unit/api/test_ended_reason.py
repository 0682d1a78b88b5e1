"""An ended job's Reason, as scontrol shows it, without claiming an exit code a job did not have."""

from __future__ import annotations

from hal.api.views import ended_reason


def test_a_failed_job_with_exit_code_zero_is_not_a_nonzero_exit() -> None:
    row = {"state": "FAILED", "exit_code": 3, "signal": None, "cause": "exit code 3"}
    assert ended_reason(row) == "NonZeroExitCode"
    assert ended_reason({**row, "exit_code": 0, "signal": 9}) == "RaisedSignal:9(Killed)"  # Slurm's form
    assert ended_reason({**row, "exit_code": 0, "cause": "cannot open output file /proc/x"}) == "JobLaunchFailure"
    assert ended_reason({**row, "exit_code": 0, "cause": "stage-out of out: failed: disk full"}) == (
        "BurstBufferOperation"
    )
    assert ended_reason({**row, "exit_code": None, "cause": "stage-in failed: source missing"}) == "JobLaunchFailure"
    stage_in = {**row, "exit_code": 1, "cause": "stage-in failed: checksum mismatch"}  # as hal/data/live.py ends it
    assert ended_reason(stage_in) == "JobLaunchFailure"  # QA: NonZeroExitCode, of a job that never launched
    assert ended_reason({**row, "exit_code": 0, "cause": "declared output(s) not written"}) == "BurstBufferOperation"
    rejected = "rejected: job 4: needs 11 nodes within one switch; the largest has 8"  # a restart, a new topology
    assert ended_reason({**row, "exit_code": None, "cause": rejected}) == "BadConstraints"
    assert ended_reason({"state": "TIMEOUT", "exit_code": 0}) == "TimeLimit"
    assert ended_reason({"state": "COMPLETED", "exit_code": 0}) is None
