"""A real server restarted with a partition's max_time lowered under pending jobs: as Slurm, a job whose only
partition no longer allows its time limit stays PENDING with reason PartitionTimeLimit (it ran past the new limit),
and a job of several partitions (-p short,low) runs in one whose limit allows it (it ran in short)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.livekit import restart_on, served, show, submit, until_state


def _cluster(short_max: int) -> str:
    return (
        'name = "t"\n[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 2\nmem = "1G"\npartitions = ["short", "low"]\n'
        f'[[partitions]]\nname = "short"\ndefault = true\nmax_time = {short_max}\n[[partitions]]\nname = "low"\n'
    )


def test_a_lowered_max_time_parks_pending_jobs_or_narrows_their_partitions(tmp_path: Path) -> None:
    with served(tmp_path, _cluster(600)) as live:
        alone = submit(live, partition="short", time="2:00", begin="now+3600")
        either = submit(live, partition="short,low", time="2:00", hold=True)
        restart_on(live, _cluster(60))
        rec = show(live, alone)
        assert rec["state"] == "PENDING" and rec["reason"] == "PartitionTimeLimit", rec
        said = " ".join(live.cli("show", alone, check=True).stdout.split())
        assert "over its partition's MaxTime: at most 0:01:00 in partition 'short'" in said, said
        assert f"hal update {alone} TimeLimit=T" in said, said
        live.cli("release", either, check=True)
        rec = until_state(live, either, "COMPLETED")
        assert rec["partition"] == "low", rec
        live.cli("update", alone, "TimeLimit=1", "StartTime=now", check=True)  # within short's limit: it runs
        rec = until_state(live, alone, "COMPLETED")
        assert rec["partition"] == "short" and rec["time_limit"] == 60, rec
