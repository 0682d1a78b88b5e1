"""hal trace check and hal simulate read an SWF header alike (QA): MaxProcs -1/0 unknown, 16.0 as 16, anything
else refused by both in the same words, any case of the key, a conflicting second line noted; trace check
warns of unsorted submit times, lists every bad line with --all and says why a header-only file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app

JOB = "{i} {s} 0 10 4 -1 -1 4 60 -1 1 {u} 1 -1 -1 -1 -1 -1\n"


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.output.split())  # Rich wraps long lines


def write(tmp_path: Path, header: str, submits: tuple[int, ...] = (0, 5), user: int = 3, bad: int = 0) -> Path:
    path = tmp_path / "t.swf"
    jobs = "".join(JOB.format(i=i + 1, s=s, u=user) for i, s in enumerate(submits))
    path.write_text(header + jobs + "junk line\n" * bad, encoding="utf-8")
    return path


@pytest.mark.parametrize(("value", "size"), [("-1", 4), ("0", 4), ("16.0", 16)])
def test_unknown_and_decimal_sizes_run_in_both(tmp_path: Path, value: str, size: int) -> None:
    path = write(tmp_path, f"; maxprocs: {value}\n")  # any case of the key
    code, said = run("trace", "check", path)
    assert code == 0 and f"MaxProcs={size if value == '16.0' else None}" in said, said
    if value != "16.0":
        assert f"header MaxProcs: '{value}' means unknown" in said, said
    code, said = run("simulate", path)
    assert code == 0 and f"on {size} processors" in said, said


@pytest.mark.parametrize("value", ["16.5", "-3", "abc", "nan"])
def test_a_malformed_size_is_refused_by_both_in_the_same_words(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"; MaxProcs: {value}\n")
    check, said_check = run("trace", "check", path)
    sim, said_sim = run("simulate", path)
    why = said_sim.removeprefix("error: ")
    assert check == 1 and sim != 0 and why.startswith(f"header MaxProcs: '{value}' is not"), said_sim
    assert f"a replay refuses this file: {why}" in said_check, (said_check, said_sim)


def test_a_conflicting_second_line_is_noted_and_the_first_counts(tmp_path: Path) -> None:
    code, said = run("trace", "check", write(tmp_path, "; MaxProcs: 16\n; MAXPROCS: 32\n; MaxProcs: 16\n"))
    assert code == 0 and "MaxProcs=16" in said and "line 2: header MaxProcs: '32' differs from '16' on line 1" in said
    assert said.count("differs") == 1, said  # the same value again is no conflict


def test_unsorted_submits_warned_with_the_first_line_and_a_count(tmp_path: Path) -> None:
    code, said = run("trace", "check", write(tmp_path, "; MaxProcs: 8\n", submits=(0, 50, 20, 60, 10)))
    assert code == 0 and "submit times are not sorted" in said, said
    assert "2 job(s) are submitted before a job listed above them" in said and "line 4 (job 3)" in said, said
    _, said = run("trace", "check", write(tmp_path, "; MaxProcs: 8\n", submits=(0, 0, 7)))
    assert "not sorted" not in said, said


def test_all_lists_every_bad_line_and_a_header_only_file_says_why(tmp_path: Path) -> None:
    path = write(tmp_path, "; MaxProcs: 8\n", bad=7)
    _, said = run("trace", "check", path)
    assert "... and 2 more" in said and "--all lists every one" in said and "line 10:" not in said, said
    _, said = run("trace", "check", path, "--all")
    assert all(f"line {n}:" in said for n in range(4, 11)) and "more" not in said, said
    code, said = run("trace", "check", write(tmp_path, "; MaxProcs: 8\n", submits=()))
    assert code == 1 and "the trace has no jobs (only header lines)" in said, said


def test_a_trace_without_user_ids_says_per_user_history_is_the_whole_trace(tmp_path: Path) -> None:
    _, said = run("trace", "check", write(tmp_path, "; MaxProcs: 8\n", user=-1))
    assert "no user ids" in said and "per-user history (last2, gbm) is the whole trace's" in said, said
    _, said = run("trace", "check", write(tmp_path, "; MaxProcs: 8\n", user=3))
    assert "no user ids" not in said, said
