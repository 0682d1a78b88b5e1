"""QA findings on hal queue against squeue, with a fake API client: --start's columns in squeue --start's order
(START_P90 last), -j with unknown or malformed ids, the -n/-w/--array-unique filters, and %-6D in -o."""

from __future__ import annotations

import pytest

from hal.cli import squeue_format
from tests.unit.cli.test_queue_submit_qa import T0, FakeClient, job, run

JOBS = [
    job(1, "RUNNING", nodelist="vn[000-001]", start_time=T0, elapsed=60.0, name="train"),
    job(2, predicted_start=T0 + 900, predicted_start_p90=T0 + 1200, sched_nodes="vn002", name="Train"),
    job(3, "RUNNING", nodelist="vn003", start_time=T0, elapsed=5.0, name="eval"),
    job(4, "COMPLETED", nodelist="vn002", start_time=T0, end_time=T0 + 10, name="done"),
]


def test_start_columns_are_squeues_with_start_p90_last(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: TIME sat where squeue --start has START_TIME, so `awk '{print $6}'` read the run time."""
    lines = run(monkeypatch, FakeClient(JOBS), "queue", "--start").stdout.splitlines()
    assert lines[0].split() == [
        "JOBID", "PARTITION", "NAME", "USER", "ST", "START_TIME", "NODES", "SCHEDNODES", "NODELIST(REASON)",
        "START_P90",
    ]  # fmt: skip
    row = lines[1].split()
    assert row == ["2", "batch", "Train", "al", "PD", squeue_format.when(T0 + 900), "1", "vn002", "(Priority)",
                   squeue_format.when(T0 + 1200)]  # fmt: skip
    picked = run(monkeypatch, FakeClient(JOBS), "queue", "--start", "-h", "-o", "%i %S").stdout.splitlines()
    assert picked == [f"2 {squeue_format.when(T0 + 900)}"]  # -o still overrides the columns
    plain = run(monkeypatch, FakeClient(JOBS), "queue").stdout.splitlines()[0]
    assert plain.split() == ["JOBID", "PARTITION", "NAME", "USER", "ST", "TIME", "NODES", "NODELIST(REASON)"]


def test_unknown_and_malformed_job_ids_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: -j 99999 and -j abc printed an empty table and exit 0; squeue says Invalid job id, exit 1."""
    for ids in ("99999", "99998,99999"):
        res = run(monkeypatch, FakeClient(JOBS), "queue", "-j", ids)
        assert res.exit_code == 1 and "Invalid job id specified" in res.output, res.output
    for bad in ("abc", "12x", "0", "1_a"):
        res = run(monkeypatch, FakeClient(JOBS), "queue", "-j", bad)
        assert res.exit_code == 1 and f"Invalid job id: {bad}" in res.output, res.output
    some = run(monkeypatch, FakeClient(JOBS), "queue", "-h", "-j", "2,99999", "-o", "%i")
    assert some.exit_code == 0 and some.stdout.split() == ["2"]  # squeue lists the ones it holds


def test_an_ended_job_is_known_and_listed_as_t_all_lists_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job still in the queue's 5-minute view after it ended: -j finds it; the default states leave it out."""
    quiet = run(monkeypatch, FakeClient(JOBS), "queue", "-h", "-j", "4", "-o", "%i %T")
    assert quiet.exit_code == 0 and quiet.stdout == ""
    shown = run(monkeypatch, FakeClient(JOBS), "queue", "-h", "-j", "4", "-t", "all", "-o", "%i %T")
    assert shown.stdout.split() == ["4", "COMPLETED"]


def test_name_nodelist_and_array_unique(monkeypatch: pytest.MonkeyPatch) -> None:
    def ids(*args: str) -> list[str]:
        res = run(monkeypatch, FakeClient(JOBS + tasks), "queue", "-h", "-o", "%i", *args)
        assert res.exit_code == 0, res.output
        return res.stdout.split()

    tasks = [job(10 + t, array_job_id=10, array_task_id=t, id=f"10_{t}", name="sweep") for t in range(3)]
    assert ids("-n", "train") == ["1", "2"]  # squeue compares names without regard to case
    assert ids("--name", "eval,sweep") == ["3", "10_[0-2]"]
    assert ids("-w", "vn[001-003]") == ["1", "3"]  # running on them; a pending job has no nodes
    assert ids("--nodelist", "vn009") == []
    assert ids("-n", "sweep", "--array-unique") == ["10_0", "10_1", "10_2"]
    bad = run(monkeypatch, FakeClient(JOBS), "queue", "-w", "vn[3-1]")
    assert bad.exit_code != 0 and "invalid entry for --nodelist" in bad.output


def test_dash_width_is_left_justified_and_a_bare_percent_is_refused() -> None:
    """QA: -o '%-6D' printed %-6D in the header and every row while %z was refused."""
    squeue_format.check("%-6D|%.6D")
    assert squeue_format.render("%-6D|%.6D|%6D", None) == "NODES | NODES|NODES "
    assert squeue_format.render("%-6D|%.6D", {"num_nodes": 3}) == "3     |     3"
    for bad in ("% i", "%i 100%", "%.-6D"):
        with pytest.raises(ValueError, match="cannot read --format code"):
            squeue_format.check(bad)


def test_stdout_is_the_table_alone_and_the_summary_goes_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: the 'cluster: N pending, ...' line came on stdout, so `hal queue --start | awk '{print $6}'` and
    `hal queue | wc -l` read one line squeue never prints; it is on stderr now (a terminal shows both)."""
    res = run(monkeypatch, FakeClient(JOBS), "queue")
    assert res.exit_code == 0 and len(res.stdout.splitlines()) == 1 + 3  # the header and the three jobs
    assert "cluster:" not in res.stdout and "cluster: 0 pending" not in res.stdout
    assert "cluster:" in res.stderr
