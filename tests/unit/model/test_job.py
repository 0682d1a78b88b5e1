"""Job states and their allowed transitions, and what a JobSpec accepts."""

from __future__ import annotations

import pytest

from hal.model.job import TRANSITIONS, InvalidTransition, Job, JobSpec, JobState, PendingReason, check_transition
from hal.model.resources import Resources

ENDINGS = [s for s in JobState if s.terminal]


def test_only_pending_running_and_stage_out_are_not_terminal() -> None:
    assert {s for s in JobState if not s.terminal} == {JobState.PENDING, JobState.RUNNING, JobState.STAGE_OUT}
    assert JobState.COMPLETED.value == "CD" and JobState.NODE_FAIL.value == "NF"  # Slurm's short codes


def test_every_state_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(JobState)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (JobState.PENDING, JobState.RUNNING),
        (JobState.PENDING, JobState.CANCELLED),
        *[(JobState.RUNNING, end) for end in ENDINGS],
        (JobState.NODE_FAIL, JobState.PENDING),  # requeue
        (JobState.PREEMPTED, JobState.PENDING),  # requeue
        (JobState.RUNNING, JobState.STAGE_OUT),
        (JobState.STAGE_OUT, JobState.COMPLETED),
        (JobState.STAGE_OUT, JobState.FAILED),  # an output never arrived
    ],
)
def test_allowed_transitions(old: JobState, new: JobState) -> None:
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (JobState.PENDING, JobState.COMPLETED),
        (JobState.PENDING, JobState.PENDING),
        (JobState.RUNNING, JobState.PENDING),
        (JobState.RUNNING, JobState.RUNNING),
        (JobState.COMPLETED, JobState.RUNNING),
        (JobState.COMPLETED, JobState.PENDING),
        (JobState.CANCELLED, JobState.PENDING),
        (JobState.FAILED, JobState.COMPLETED),
        (JobState.TIMEOUT, JobState.PENDING),
        (JobState.NODE_FAIL, JobState.RUNNING),
        (JobState.STAGE_OUT, JobState.RUNNING),
        (JobState.STAGE_OUT, JobState.CANCELLED),
        (JobState.PENDING, JobState.STAGE_OUT),
    ],
)
def test_refused_transitions(old: JobState, new: JobState) -> None:
    with pytest.raises(InvalidTransition, match=f"from {old.name} to {new.name}"):
        check_transition(old, new)


def test_final_states_lead_nowhere() -> None:
    for state in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT, JobState.OUT_OF_MEMORY):
        assert TRANSITIONS[state] == frozenset()


def test_a_job_records_its_life() -> None:
    job = Job(JobSpec(job_id=7, submit_time=0))
    job.reason = PendingReason.RESOURCES
    job.transition(JobState.RUNNING, 10.0, "scheduled")
    assert job.start_time == 10.0 and job.reason is PendingReason.NONE
    job.transition(JobState.COMPLETED, 25.0, "exit 0")
    assert job.end_time == 25.0 and job.state is JobState.COMPLETED
    assert job.history == [(10.0, JobState.RUNNING, "scheduled"), (25.0, JobState.COMPLETED, "exit 0")]
    with pytest.raises(InvalidTransition):
        job.transition(JobState.RUNNING, 30.0)
    assert job.state is JobState.COMPLETED and len(job.history) == 2  # a refused change leaves no trace


def test_a_job_ends_when_its_processes_end_even_if_its_outputs_arrive_later() -> None:
    job = Job(JobSpec(job_id=3, submit_time=0))
    job.transition(JobState.RUNNING, 1.0)
    job.transition(JobState.STAGE_OUT, 5.0, "exit 0")
    assert job.end_time == 5.0 and not job.state.terminal
    job.transition(JobState.FAILED, 9.0, "stage-out of out failed")
    assert job.end_time == 5.0 and job.state.terminal


def test_a_requeued_job_runs_again() -> None:
    job = Job(JobSpec(job_id=1, submit_time=0))
    for state, at in ((JobState.RUNNING, 1.0), (JobState.NODE_FAIL, 2.0), (JobState.PENDING, 2.0)):
        job.transition(state, at)
    job.transition(JobState.RUNNING, 3.0)
    assert job.start_time == 3.0 and job.job_id == 1


def test_spec_totals() -> None:
    spec = JobSpec(job_id=1, submit_time=0, tasks=4, per_task=Resources(cpus=2, mem_mb=100, gpus=1))
    assert spec.total == Resources(8, 400, 4)
    assert spec.procs == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tasks": 0}, "tasks must be >= 1"),
        ({"nodes": 0}, "nodes must be >= 1"),
        ({"time_limit": -1}, "time limit must be >= 0"),
        ({"submit_time": -5}, "submit time must be >= 0"),
    ],
)
def test_spec_validation(kwargs: dict[str, float], message: str) -> None:
    args: dict[str, float] = {"job_id": 3, "submit_time": 0, **kwargs}
    with pytest.raises(ValueError, match=message) as info:
        JobSpec(**args)  # type: ignore[arg-type]
    assert "job 3" in str(info.value)
