"""Slurm's rules for --dependency, including a whole array named by afternotok (judged by its worst task)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hal.engine.dependencies import dependency_reason
from hal.model.job import Dependency, DependencyKind, PendingReason

OK, NOT, ANY, AFTER = DependencyKind.AFTEROK, DependencyKind.AFTERNOTOK, DependencyKind.AFTERANY, DependencyKind.AFTER
NEVER, WAIT = PendingReason.DEPENDENCY_NEVER_SATISFIED, PendingReason.DEPENDENCY


def test_single_jobs() -> None:
    assert dependency_reason((Dependency(OK, 1),), {1: True}, {}) is None
    assert dependency_reason((Dependency(OK, 1),), {1: False}, {}) is NEVER
    assert dependency_reason((Dependency(NOT, 1),), {1: True}, {}) is NEVER
    assert dependency_reason((Dependency(NOT, 1),), {1: False}, {}) is None
    assert dependency_reason((Dependency(ANY, 1),), {1: False}, {}) is None
    assert dependency_reason((Dependency(OK, 1),), {1: None}, {}) is WAIT  # ended, outputs still staging out
    assert dependency_reason((Dependency(AFTER, 1),), {}, {1: object()}) is None  # it started
    assert dependency_reason((Dependency(AFTER, 1),), {1: None}, {}) is None
    assert dependency_reason((Dependency(AFTER, 1),), {}, {}) is WAIT
    # one that can never hold is shown whatever the order, as Slurm does
    assert dependency_reason((Dependency(OK, 2), Dependency(OK, 1)), {1: False}, {}) is NEVER


def test_afternotok_on_an_array_holds_when_every_task_ended_and_one_failed() -> None:
    deps = tuple(Dependency(NOT, t, array=10) for t in (10, 11, 12))
    assert dependency_reason(deps, {10: True, 11: False}, {}) is WAIT  # task 12 still runs
    assert dependency_reason(deps, {10: True, 11: False, 12: True}, {}) is None
    assert dependency_reason(deps, {10: True, 11: True, 12: True}, {}) is NEVER
    # named task by task (afternotok:10_1:10_2) each one must fail, as for any list of jobs
    each = tuple(Dependency(NOT, t) for t in (10, 11))
    assert dependency_reason(each, {10: True, 11: False}, {}) is NEVER


def test_afterok_on_an_array_waits_for_every_task_before_it_fails() -> None:
    """QA (cli2 #6): one task failed while another still ran and afterok:ARRAY was already never satisfied, so
    --kill-on-invalid-dep cancelled the dependent, where Slurm waits (a requeue of the task can still rescue it)."""
    deps = tuple(Dependency(OK, t, array=10) for t in (10, 11))
    assert dependency_reason(deps, {10: False}, {}) is WAIT  # task 11 still runs
    assert dependency_reason(deps, {10: False, 11: True}, {}) is NEVER
    assert dependency_reason(deps, {10: True, 11: True}, {}) is None
    each = tuple(Dependency(OK, t) for t in (10, 11))  # named task by task: each judged on its own, at once
    assert dependency_reason(each, {10: False}, {}) is NEVER


@given(st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=8))
def test_an_array_is_judged_by_its_worst_task(ends: list[bool | None]) -> None:
    outcomes = {100 + i: e for i, e in enumerate(ends)}
    for kind in (OK, NOT, ANY):
        deps = tuple(Dependency(kind, j, array=100) for j in outcomes)
        got = dependency_reason(deps, outcomes, {})
        if None in ends:  # a whole array is judged once every task ended, afterok too (Slurm; QA cli2 #6)
            assert got is WAIT, (kind, ends)
            continue
        worst_ok = all(ends)
        want = {OK: None if worst_ok else NEVER, NOT: NEVER if worst_ok else None, ANY: None}[kind]
        assert got is want, (kind, ends)


class Started:
    """A running job as the engine keeps it: only its start matters here."""

    def __init__(self, start: float) -> None:
        self.start = start


def test_after_with_minutes_counts_from_the_start() -> None:
    late = (Dependency(AFTER, 1, delay=120.0),)
    assert dependency_reason(late, {}, {}, now=1000.0) is WAIT  # not started
    assert dependency_reason(late, {}, {1: Started(900.0)}, now=1000.0) is WAIT  # started 100 s ago
    assert dependency_reason(late, {}, {1: Started(880.0)}, now=1000.0) is None
    # ended: from when it had started, as the engine recorded it
    assert dependency_reason(late, {1: False}, {}, now=1000.0, started={1: 950.0}) is WAIT
    assert dependency_reason(late, {1: False}, {}, now=1100.0, started={1: 950.0}) is None
    assert dependency_reason(late, {1: True}, {}, now=0.0) is None  # ended before a restart: long started


def test_any_one_of_a_question_mark_list_is_enough() -> None:
    either = (Dependency(OK, 1, any_of=True), Dependency(OK, 2, any_of=True))
    assert dependency_reason(either, {}, {}) is WAIT
    assert dependency_reason(either, {1: False}, {}) is WAIT  # 2 may still succeed
    assert dependency_reason(either, {1: False, 2: True}, {}) is None
    assert dependency_reason(either, {1: False, 2: False}, {}) is NEVER  # none can be met any more
    assert dependency_reason((*either, Dependency(OK, 3)), {2: True}, {}) is WAIT  # one HAL added: still required
    started = (Dependency(AFTER, 4, any_of=True), Dependency(NOT, 5, any_of=True))
    assert dependency_reason(started, {}, {4: Started(0.0)}) is None
    # a whole array is one alternative, judged by all its tasks
    arr = (*(Dependency(OK, t, array=10, any_of=True) for t in (10, 11)), Dependency(ANY, 7, any_of=True))
    assert dependency_reason(arr, {10: True}, {}) is WAIT
    assert dependency_reason(arr, {10: True, 11: True}, {}) is None
    assert dependency_reason(arr, {10: True, 11: False}, {}) is WAIT  # afterany:7 may still be met


def test_aftercorr_is_judged_on_the_corresponding_task_alone() -> None:
    corr = (Dependency(DependencyKind.AFTERCORR, 11, array=10),)  # task N's counterpart only
    assert dependency_reason(corr, {10: False}, {}) is WAIT  # another task failing is not its business
    assert dependency_reason(corr, {11: True}, {}) is None
    assert dependency_reason(corr, {11: False}, {}) is NEVER
    assert dependency_reason(corr, {11: None}, {}) is WAIT  # ended, outputs still staging out
