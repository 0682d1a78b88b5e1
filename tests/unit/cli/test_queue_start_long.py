"""`hal queue --start -l`: squeue sets --start's format before -l's default, so --start -l keeps the forecast
columns (QA: it printed -l's table, without START_TIME and START_P90), with -l's date line above them."""

from __future__ import annotations

import json

import pytest

from hal.cli import squeue_format
from tests.unit.cli.test_queue_submit_qa import JOBS, T0, FakeClient, run


def test_start_long_keeps_the_forecast_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = run(monkeypatch, FakeClient(JOBS), "queue", "--start").stdout.splitlines()
    lines = run(monkeypatch, FakeClient(JOBS), "queue", "--start", "-l").stdout.splitlines()
    assert not lines[0].startswith("JOBID") and str(int(lines[0].split()[-1])) == lines[0].split()[-1]  # the date
    assert lines[1:] == plain  # --start's columns and rows, as without -l
    assert lines[1].split()[5] == "START_TIME" and lines[1].split()[-1] == "START_P90"
    assert [line.split()[0] for line in lines[2:5]] == ["3", "2", "4"]  # pending, by forecast start
    assert lines[2].split()[5] == squeue_format.when(T0 + 300)
    bare = run(monkeypatch, FakeClient(JOBS), "queue", "--start", "-l", "-h").stdout.splitlines()
    assert bare == plain[1:]  # no date, no header


def test_start_with_other_options_keeps_working(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = run(monkeypatch, FakeClient(JOBS), "queue", "--start").stdout.splitlines()
    assert run(monkeypatch, FakeClient(JOBS), "queue", "--start", "-h").stdout.splitlines() == plain[1:]
    given = run(monkeypatch, FakeClient(JOBS), "queue", "--start", "-h", "-o", "%i %S").stdout.splitlines()
    assert given[:2] == [f"3 {squeue_format.when(T0 + 300)}", f"2 {squeue_format.when(T0 + 900)}"]
    long_given = run(monkeypatch, FakeClient(JOBS), "queue", "--start", "-l", "-h", "-o", "%i %S").stdout
    assert long_given.splitlines() == given  # -o's columns win over both
    named = run(monkeypatch, FakeClient(JOBS), "queue", "--start", "-h", "-O", "JobID:4,StartTime:20").stdout
    assert named.splitlines()[0].split() == ["3", squeue_format.when(T0 + 300)]
    got = json.loads(run(monkeypatch, FakeClient(JOBS), "queue", "--start", "-l", "--json").stdout)
    assert [j["job_id"] for j in got["jobs"]] == [3, 2, 4]
