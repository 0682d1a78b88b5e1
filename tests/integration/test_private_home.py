"""A real `hal server` under umask 022 keeps its state owner-only (QA: hal.db, with every user's scripts and
environments, was 0644), tightens what an older version left readable, and still serves its own user's CLI;
jobs' output files keep the umask they were submitted with."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.integration.livekit import LiveServer, until_state


def test_state_in_home_is_owner_only_and_jobs_keep_their_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    live = LiveServer(tmp_path)
    try:
        live.home.mkdir(parents=True)
        for name in ("runtime-model.zip", "server.json"):  # as an older version left them
            (live.home / name).write_text("old")
            (live.home / name).chmod(0o644)
        live.start()
        job = live.cli("submit", "--parsable", "-o", "j.out", "--wrap", "echo ran", check=True).stdout.strip()
        until_state(live, job, "COMPLETED")
        assert live.cli("queue", check=True).returncode == 0  # the same user's CLI reads server.json and token
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in live.home.iterdir() if p.is_file()}
        assert {"hal.db", "hal.db-wal", "server.json", "server.lock", "token", "runtime-model.zip"} <= set(files)
        loose = {name: oct(m) for name, m in files.items() if m & 0o077}
        assert not loose, loose
        assert stat.S_IMODE((live.home / "spool").stat().st_mode) == 0o700
        assert stat.S_IMODE((live.work / "j.out").stat().st_mode) == 0o644  # the job's umask, not the state's
        os.umask(0o027)  # a submitter's own umask: sbatch sends it as SLURM_UMASK, the job and its files get it
        wrap = "umask; touch f"
        job = live.cli("submit", "--parsable", "-o", "u.out", "-e", "u.err", "--wrap", wrap, check=True).stdout
        until_state(live, job.strip(), "COMPLETED")
        modes = {n: stat.S_IMODE((live.work / n).stat().st_mode) for n in ("u.out", "u.err", "f")}
        assert modes == dict.fromkeys(modes, 0o640) and (live.work / "u.out").read_text() == "0027\n", modes
    finally:
        live.stop()
        os.umask(old)
