"""`hal hold` / `hal release` and `hal submit -H` (Slurm's scontrol hold/release, sbatch -H) on a real server."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.integration.livekit import LiveServer


def _state(live: LiveServer, job: str) -> dict[str, object]:
    return dict(json.loads(live.cli("show", job, "--json", check=True).stdout))


def _until_state(live: LiveServer, job: str, state: str, timeout: float = 30.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while (rec := _state(live, job))["state"] != state:
        assert time.monotonic() < deadline, rec
        time.sleep(0.1)
    return rec


def test_held_jobs_wait_for_release_even_across_a_restart(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        held = live.cli("submit", "--parsable", "-H", "--wrap", "true", "-t", "1:00", check=True).stdout.strip()
        script = tmp_path / "work" / "held.sh"
        script.write_text("#!/bin/sh\n#SBATCH -H\ntrue\n")
        by_directive = live.cli("submit", "--parsable", str(script), check=True).stdout.strip()
        later = live.cli("submit", "--parsable", "--begin", "now+3600", "--wrap", "true", check=True).stdout.strip()
        time.sleep(1.0)
        for job in (held, by_directive):
            rec = _state(live, job)
            assert rec["state"] == "PENDING" and rec["reason"] == "JobHeldUser", rec
        assert "hal release JOB lets it start" in " ".join(live.cli("show", held, check=True).stdout.split())
        assert "JobHeldUser" in live.cli("queue", check=True).stdout
        live.cli("hold", later, check=True)
        assert _state(live, later)["reason"] == "JobHeldUser"
        live.kill()  # SIGKILL: the holds are in the records, not only in memory
        live.start()
        time.sleep(1.0)
        assert [_state(live, j)["reason"] for j in (held, by_directive, later)] == ["JobHeldUser"] * 3
        done = live.cli("release", held, by_directive, check=True).stdout
        assert "released 1 job(s)" in done
        _until_state(live, held, "COMPLETED")
        _until_state(live, by_directive, "COMPLETED")
        live.cli("release", later, check=True)
        assert _state(live, later)["reason"] == "BeginTime"  # its --begin still holds it
        again = live.cli("hold", held)
        assert again.returncode != 0 and "no longer pending (COMPLETED)" in " ".join(again.stderr.split())
        other = live.new_user("bob")
        refused = live.cli("hold", later, token=other)
        assert refused.returncode != 0 and "your own jobs" in " ".join(refused.stderr.split())
        live.cli("cancel", later, check=True)
    finally:
        live.stop()
