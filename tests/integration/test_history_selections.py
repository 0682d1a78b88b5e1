"""sacct's everyday selections on `hal history` against a real server (QA: each was "No such option"): --name,
-r/--partition, -N/--nodelist, -A/--account, -q/--qos, --delimiter with -P, and the DerivedExitCode field."""

from __future__ import annotations

from pathlib import Path

from tests.integration.livekit import LiveServer, finished, submit


def test_history_selects_jobs_as_sacct_does(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        a = submit(live, job_name="train", nodelist="vn000")
        b = submit(live, job_name="eval", partition="debug", nodelist="vn001")
        c = submit(live, "exit 3", job_name="train", account="proj", nodelist="vn002")
        assert [finished(live, j) for j in (a, b, c)] == ["COMPLETED", "COMPLETED", "FAILED"]

        def ids(*args: str) -> list[str]:
            done = live.cli("history", "-P", "-n", "-o", "JobID", *args, check=True)
            return done.stdout.split()

        assert ids("--name", "train") == [a, c]
        assert ids("-r", "debug") == ids("--partition", "debug") == [b]
        assert ids("-N", "vn000") == ids("--nodelist", "vn[000-000]") == [a]
        assert ids("-A", "proj") == [c]
        assert ids("-q", "normal") == [a, b, c]
        assert ids("--name", "train,eval", "-r", "batch") == [a, c]
        shown = live.cli("history", "-P", "-n", "--delimiter", ",", "-j", c, "-o", "JobID,JobName,DerivedExitCode")
        assert shown.stdout.split() == [f"{c},train,3:0"], shown
    finally:
        live.stop()
