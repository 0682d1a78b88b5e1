"""`hal history -o Eligible` on a real server, as sacct prints it (it was refused: "unknown --format fields
['Eligible']"): Unknown while a job waits for another, then the moment its dependency was met (hal show's
EligibleTime), and the submit time of a job that never waited."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.integration.livekit import LiveServer, finished, submit, until_state


def _row(live: LiveServer, *args: str) -> dict[str, str]:
    out = live.cli("history", "-P", "-n", "-o", "JobID,Eligible,Submit,End", *args, check=True).stdout
    return {f[0]: f[1] + "|" + f[2] + "|" + f[3] for f in (line.split("|") for line in out.splitlines())}


def test_history_lists_when_each_job_became_eligible(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        gate = tmp_path / "go"
        first = submit(live, f"while [ ! -e {gate} ]; do sleep 0.1; done; sleep 1.2")
        then = submit(live, dependency=f"afterok:{first}")
        until_state(live, first, "RUNNING")
        waiting = _row(live, "-j", then)[then].split("|")
        assert waiting[0] == "Unknown"  # sacct: not eligible while its dependency is unmet
        gate.touch()
        assert finished(live, then) == "COMPLETED"
        listed = {j: v.split("|") for j, v in _row(live).items()}  # the listing, not -j: details fetched for it
        eligible, submitted, _ = listed[then]
        met, ended = datetime.fromisoformat(eligible), datetime.fromisoformat(listed[first][2])
        assert 0 <= (met - ended).total_seconds() <= 2  # met when its dependency ended (the next cycle),
        assert met > datetime.fromisoformat(submitted)  # not at its submit (1.2 s and more before)
        assert listed[first][0] == listed[first][1]  # never waited: eligible at its submit
        table = live.cli("history", "-o", "JobID,Eligible", "-j", then, check=True).stdout.splitlines()
        assert table[0].split() == ["JobID", "Eligible"] and len(table[1]) == 12 + 1 + 19  # sacct's width
    finally:
        live.stop()
