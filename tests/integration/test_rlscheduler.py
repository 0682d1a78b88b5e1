"""RLScheduler's evaluation setup: the published heuristic table, the window draws and the loop's rules."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from hal.sim.rlpublished import INTENDED, PUBLISHED, TRACE_FILES
from hal.sim.rlscheduler import (
    PUBLISHED_STARTS,
    Loaded,
    RlJob,
    RlSetup,
    load_jobs,
    run_setup,
    schedule_window,
    simulate_window,
    window_starts,
)

TRACES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "traces"
LOADED_COUNTS = {"Lublin-1": 10_000, "SDSC-SP2": 59_705, "HPC2N": 202_871, "Lublin-2": 10_000}

CASES = [
    pytest.param(trace, policy, bf, id=f"{trace}-{policy}-{'bf' if bf else 'nobf'}")
    for trace, row in PUBLISHED.items()
    for policy in row
    for bf in (False, True)
]


@functools.cache
def _loaded(trace: str) -> Loaded:
    path = TRACES_DIR / TRACE_FILES[trace]
    if not path.exists():
        pytest.skip(f"../shared/traces not found: {path} is missing (RLScheduler's table needs it)")
    return load_jobs(path)


def _close(value: float, expected: float, rel: float = 0.01) -> bool:
    return abs(value - expected) <= rel * expected


def test_window_starts_match_the_published_draws() -> None:
    # Lublin traces use the whole trace (slice 0); SDSC and HPC2N sample their first 10,000 jobs.
    assert window_starts(10_000, 0) == list(PUBLISHED_STARTS)
    assert window_starts(59_705, 10_000) == list(PUBLISHED_STARTS)
    assert window_starts(202_871, 10_000) == list(PUBLISHED_STARTS)


@pytest.mark.shared
@pytest.mark.parametrize("trace", list(TRACE_FILES))
def test_loading_rules_give_the_documented_job_counts(trace: str) -> None:
    loaded = _loaded(trace)
    assert len(loaded.jobs) == LOADED_COUNTS[trace]
    assert (loaded.nodes, loaded.ppn) == ({"SDSC-SP2": 128, "HPC2N": 240}.get(trace, 256), 1.0)
    first_ids = [loaded.jobs[s].job_id for s in PUBLISHED_STARTS[:2]]
    assert first_ids == {"SDSC-SP2": [1992, 2767], "HPC2N": [5278, 6736]}.get(trace, [1982, 2757])


@pytest.mark.shared
@pytest.mark.parametrize(("trace", "policy", "backfill"), CASES)
def test_published_table_is_reproduced(trace: str, policy: str, backfill: bool) -> None:
    result = run_setup(_loaded(trace), RlSetup(policy, backfill, published_bug=True))
    expected = PUBLISHED[trace][policy][backfill]
    assert result.starts == PUBLISHED_STARTS
    assert _close(result.mean, expected), f"{trace} {policy} bf={backfill}: {result.mean:.2f} vs {expected}"


@pytest.mark.shared
@pytest.mark.parametrize("trace", list(INTENDED))
@pytest.mark.parametrize("policy", ["wfp3", "unicep"])
def test_intended_waiting_time_differs_from_the_published_bug(trace: str, policy: str) -> None:
    for backfill in (False, True):
        result = run_setup(_loaded(trace), RlSetup(policy, backfill))
        assert _close(result.mean, INTENDED[trace][policy][backfill], rel=1e-4)
        assert not _close(result.mean, PUBLISHED[trace][policy][backfill], rel=0.05)


@pytest.mark.shared
def test_hpc2n_as_120_dual_processor_nodes_changes_the_numbers() -> None:
    loaded = _loaded("HPC2N")
    result = run_setup(Loaded(loaded.jobs, 120, 2.0), RlSetup("f1", False))
    assert _close(result.mean, 127.23, rel=1e-4)


# Tiny hand-made traces: 4 nodes; job tuples are (submit, run, procs, req).
def _jobs(*spec: tuple[int, int, int, int]) -> list[RlJob]:
    return [RlJob(i + 1, s, run, req, procs) for i, (s, run, procs, req) in enumerate(spec)]


BLOCKED = ((0, 100, 3, 100), (1, 10, 2, 10), (2, 10, 1, 10))  # B cannot start until A ends; C fits now


def test_committed_head_is_not_overtaken_without_backfilling() -> None:
    # SJF would prefer C (5 s) once it arrives, but B was chosen as head at t=1 and stays committed.
    jobs = _jobs((0, 100, 3, 100), (1, 10, 2, 10), (2, 5, 1, 5))
    assert schedule_window(jobs, 4, 1.0, RlSetup("sjf", backfill=False)) == [0, 100, 100]


def test_backfilling_starts_a_job_ending_before_the_shadow() -> None:
    starts = schedule_window(_jobs(*BLOCKED), 4, 1.0, RlSetup("fcfs", backfill=True))
    assert starts == [0, 100, 2]


def test_backfilled_job_must_end_strictly_before_the_shadow() -> None:
    # The shadow is A's requested end, 100: C submitted at 2 may request at most 97 s.
    tight = _jobs((0, 100, 3, 100), (1, 10, 2, 10), (2, 10, 1, 98))
    assert schedule_window(tight, 4, 1.0, RlSetup("fcfs", True)) == [0, 100, 100]
    fits = _jobs((0, 100, 3, 100), (1, 10, 2, 10), (2, 10, 1, 97))
    assert schedule_window(fits, 4, 1.0, RlSetup("fcfs", True)) == [0, 100, 2]


def test_no_extra_nodes_rule() -> None:
    # C (1 node, long) leaves enough nodes for B at the shadow, so EASY would start it at 2; this setup waits.
    jobs = _jobs((0, 100, 2, 100), (1, 10, 3, 10), (2, 500, 1, 500))
    assert schedule_window(jobs, 4, 1.0, RlSetup("fcfs", True)) == [0, 100, 100]


def test_shadow_uses_requested_ends_while_completions_use_actual_ones() -> None:
    # A requests 1000 s but runs 50: C (req 500) is backfilled, then delays B (4 nodes) past A's real end.
    jobs = _jobs((0, 50, 3, 1000), (1, 10, 4, 10), (2, 400, 1, 500))
    assert schedule_window(jobs, 4, 1.0, RlSetup("fcfs", True)) == [0, 402, 2]


def test_bounded_slowdown_uses_actual_run_and_ten_second_floor() -> None:
    # A waits 0 (bsld 1), B waits 99 s for a 10 s run (10.9), C waits 98 s for 10 s (10.8).
    value = simulate_window(_jobs(*BLOCKED), 4, 1.0, RlSetup("fcfs", False))
    assert value == pytest.approx((1 + 10.9 + 10.8) / 3)


def test_loader_follows_rlscheduler_rules(tmp_path: Path) -> None:
    lines = [
        "; MaxNodes: 8",
        "2 5 -1 -1 -1 -1 -1 4 -1 -1 5 1 1 1 1 1 -1 -1",  # cancelled: run -1 -> 10 s, req stays -1
        "1 0 -1 30 2 -1 -1 3 -1 -1 1 1 1 1 1 1 -1 -1",  # procs max(2, 3); req = run
        "3 9 -1 0 1 -1 -1 1 60 -1 0 1 1 1 1 1 -1 -1",  # zero run time: dropped
    ]
    path = tmp_path / "tiny.swf"
    path.write_text("\n".join(lines) + "\n")
    loaded = load_jobs(path)
    assert loaded.jobs == [RlJob(1, 0, 30, 30, 3, 1), RlJob(2, 5, 10, -1, 4, 1)]
    assert (loaded.nodes, loaded.ppn) == (8, 1.0)


def test_job_larger_than_the_machine_is_refused() -> None:
    with pytest.raises(ValueError, match="machine has 4 nodes"):
        simulate_window(_jobs((0, 10, 5, 10)), 4, 1.0, RlSetup("fcfs", False))


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown policy"):
        RlSetup("easy", True)
