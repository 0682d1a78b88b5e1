"""sacct -D on a real server: a job requeued once with `hal requeue` keeps its first run in the accounting (its own
row, State REQUEUED) and in fair share, and both survive a kill -9 of the controller."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.livekit import LiveServer, concurrently, until_state, wait_running

COLUMNS = "JobID,State,Start,End,Elapsed,NodeList,AllocCPUS,Restarts"
TWICE = '[ -n "$SLURM_RESTART_COUNT" ] && { sleep 0.2; exit 0; }; sleep 120'  # the second run completes


def _usage(live: LiveServer, user: str) -> float:
    with live.client() as c:
        return float(next(r["raw_usage"] for r in c.shares()["users"] if r["user"] == user))


def _runs(live: LiveServer, job: str) -> list[dict[str, Any]]:
    """The job's runs as the SDK returns them with duplicates: earlier attempts, then the record itself."""
    with live.client() as c:
        rec = c.get(job, duplicates=True)
    return [*rec.pop("attempts"), rec]


def test_a_requeued_job_shows_and_charges_both_runs_across_a_restart(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        with live.client() as c:
            job = str(c.submit(wrap=TWICE)["job_id"])
        wait_running(live, job)
        time.sleep(0.6)  # a first run worth charging (its own Elapsed)
        live.cli("requeue", job, check=True)
        until_state(live, job, "COMPLETED")
        said = concurrently(  # four listings of the ended job, side by side
            lambda: live.cli("history", "-D", "-P", "-o", COLUMNS, "-j", job, check=True).stdout,
            lambda: live.cli("history", "-P", "-o", "JobID,State", "-j", job, check=True).stdout,
            lambda: live.cli("history", "-D", "-n", "-P", "-o", "JobID,State", "-s", "RQ", check=True).stdout,
            lambda: live.cli("history", "-D", "--json", check=True).stdout,
        )
        table = said[0].splitlines()
        assert table[0] == COLUMNS.replace(",", "|")
        assert [row.split("|")[:2] for row in table[1:]] == [[job, "REQUEUED"], [job, "COMPLETED"]], table
        first, last = (row.split("|") for row in table[1:])
        assert first[5] and first[6] == "1" and (first[7], last[7]) == ("0", "1")  # its own nodes, SLURM_RESTART_COUNT
        plain = said[1].splitlines()
        assert plain[1:] == [f"{job}|COMPLETED"]  # without -D: the latest run alone, as before
        picked = said[2]
        assert picked.split() == [f"{job}|REQUEUED"]  # -s filters rows: an attempt's state is its own
        runs = json.loads(said[3])["jobs"]  # the listing, paged
        assert [(r["job_id"], r["state"]) for r in runs] == [(int(job), "REQUEUED"), (int(job), "COMPLETED")]
        assert "requeued by" in runs[0]["cause"] and runs[0]["end_time"] <= runs[1]["start_time"]
        assert runs[0]["elapsed"] >= 0.6 and runs[1]["elapsed"] >= 0.2  # Elapsed: each run's own, the record's
        assert runs[1]["elapsed"] == pytest.approx(runs[1]["end_time"] - runs[1]["start_time"])  # not both runs
        spent = sum(r["elapsed"] * r["alloc_cpus"] for r in runs)
        user = runs[0]["user"]
        assert _usage(live, user) == pytest.approx(spent, abs=0.2)  # fair share charged both runs
        live.kill()
        live.start()
        again = _runs(live, job)
        assert [(r["state"], r["start_time"], r["end_time"]) for r in again] == [
            (r["state"], r["start_time"], r["end_time"]) for r in runs
        ]
        assert _usage(live, user) == pytest.approx(spent, abs=0.2)  # recharged from the records: both, once
    finally:
        live.stop()
