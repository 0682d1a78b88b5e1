"""QA (capacity planner): with --window, "skipped" counted every unreadable line of the whole trace (a 10-job window
of LLNL Thunder said 1,190, all far outside it); hal tune listed the whole trace's skips and never said how many jobs
of its training and test slices ran."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app

BAD = "9999 -1 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"  # negative submit time: unreadable


def job(i: int, procs: int = 1) -> str:
    return f"{i} {i * 10} 0 50 {procs} -1 -1 {procs} 60 -1 1 {i % 3} 1 -1 -1 -1 -1 -1\n"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def test_a_window_counts_only_its_own_unreadable_lines(tmp_path: Path) -> None:
    trace = tmp_path / "t.swf"
    lines = [job(i) for i in range(1, 41)]
    lines.insert(3, BAD)  # between jobs 3 and 4: inside a window of jobs 1-10
    lines += [BAD] * 7  # after the last job: outside it
    trace.write_text("; MaxProcs: 4\n" + "".join(lines))
    summary = tmp_path / "w.json"
    code, _, said = run("simulate", trace, "--window", "0:10", "--summary-out", summary)
    assert code == 0, said
    assert json.loads(summary.read_text())["skipped"] == 1  # was 8
    assert "1 job(s) skipped" in said and "line 5: negative submit time -1" in said, said
    assert "7 line(s) that could not be read lie outside --window 0:10" in said, said
    code, _, said = run("simulate", trace, "--window", "20:10", "--summary-out", summary)
    assert code == 0 and json.loads(summary.read_text())["skipped"] == 0, said


def test_tune_lists_each_slices_skips_and_says_how_many_jobs_ran(tmp_path: Path) -> None:
    trace = tmp_path / "t.swf"
    # jobs 1-20 train, 21-40 test; every third job is too large for one processor, and so are jobs 41-100
    body = [job(i, 2 if i % 3 == 0 or i > 40 else 1) for i in range(1, 101)]
    trace.write_text("; MaxProcs: 4\n" + "".join(body))
    code, out, said = run("tune", trace, "--train", "0:20", "--procs", "1", "--budget", "4", "--json")
    assert code == 0, said
    slices = json.loads(out)["slices"]
    assert slices["train"] == {"start": 0, "count": 20, "jobs": 14, "skipped": 6}
    assert slices["test"] == {"start": 20, "count": 20, "jobs": 13, "skipped": 7}
    assert "6 job(s) skipped in --train 0:20" in said and "7 job(s) skipped in --test 20:20" in said, said
    assert "73 job(s) skipped" not in said, said  # the whole trace's, listed before
    assert "60 other line(s) or job(s) skipped, outside both slices" in said, said
    assert "(14 run)" in said and "(13 run)" in said, said
