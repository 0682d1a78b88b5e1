"""`hal queue` on a real server: a pending array task updated, held or released by itself gets its own line (12_3),
as squeue lists a task Slurm has split into its own job record, while the rest of the array stays one line
(12_[0-2,4-5]); a change to the whole array splits nothing, and the split outlives a kill -9 of the controller."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import build
from tests.integration.livekit import LiveServer, show


def _lines(live: LiveServer, array: str) -> list[tuple[str, str]]:
    """(JOBID, NODELIST(REASON)) of each line `hal queue -j ARRAY` prints: the real command, in-process."""
    env = {"HAL_URL": live.url, "HAL_TOKEN": live.token(), "HAL_HOME": str(live.home)}
    got = CliRunner().invoke(build(["queue"]), ["queue", "-h", "-j", array], env=env)
    assert got.exit_code == 0, got.output
    return [(line.split()[0], line.split()[-1]) for line in got.stdout.splitlines() if line.strip()]


def test_a_task_changed_by_itself_leaves_its_array_s_line(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        with live.client() as c:
            array = str(c.submit(wrap="true", options={"array": "0-5", "begin": "now+3600", "time": "10:00"})["job_id"])
            assert _lines(live, array) == [(f"{array}_[0-5]", "(BeginTime)")]
            c.update(array, TimeLimit="5:00")  # the whole array: still one record
            assert _lines(live, array) == [(f"{array}_[0-5]", "(BeginTime)")]
            c.update(f"{array}_3", TimeLimit="2:00")  # scontrol update JobId=12_3: its own record now
            assert show(live, f"{array}_3")["time_limit"] == 120.0
            assert show(live, f"{array}_2")["time_limit"] == 300.0
            assert _lines(live, array) == [(f"{array}_[0-2,4-5]", "(BeginTime)"), (f"{array}_3", "(BeginTime)")]
            c.hold(f"{array}_5")
            c.release(f"{array}_5")  # like its siblings again, yet split, as Slurm leaves it
            c.hold(array)
            c.release(array)  # the whole array: nothing more split
        want = [(f"{array}_[0-2,4]", "(BeginTime)"), (f"{array}_3", "(BeginTime)"), (f"{array}_5", "(BeginTime)")]
        assert _lines(live, array) == want
        live.kill()  # the mark is kept with each task's request: a restart reads it back
        live.start()
        assert _lines(live, array) == want
        with live.client() as c:
            c.cancel(array)
    finally:
        live.stop()
