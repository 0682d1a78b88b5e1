"""An administrator's hold on a real server (Slurm's JobHeldAdmin): a user's own `hal hold` leaves it so (it
replaced it with a user hold the user could then release), an administrator's hold of their own job is one too, and
`hal update J Priority=0` holds as Slurm's does. With a multifactor profile: `hal shares` gives its half-life as
Slurm's PriorityDecayHalfLife, and `hal prio` a priority never below 1 however large the nice."""

from __future__ import annotations

from pathlib import Path

from tests.integration.livekit import LiveServer, cancel, show, submit

PROFILE = 'order = "multifactor"\nhalf_life = 600\n[order_args]\nweight_age = 1000\nmax_age = 3600\n'


def _said(res: object) -> str:
    return " ".join((getattr(res, "stdout", "") + getattr(res, "stderr", "")).split())


def test_an_admin_hold_stays_the_admins(tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text(PROFILE)
    live = LiveServer(tmp_path, "--profile", str(profile))
    live.start()
    try:
        bob = live.new_user("bob")
        job = submit(live, begin="now+3600", token=bob)
        live.cli("hold", job, check=True)  # the administrator's
        assert show(live, job)["reason"] == "JobHeldAdmin"
        again = live.cli("hold", job, token=bob, check=True)  # his own hold on it changes nothing
        assert "already held" in _said(again)
        assert show(live, job)["reason"] == "JobHeldAdmin"
        refused = live.cli("release", job, token=bob)
        assert refused.returncode != 0 and "held by an administrator" in _said(refused)
        live.cli("release", job, check=True)
        live.cli("update", job, "Priority=0", token=bob, check=True)  # Slurm's hold by priority: his own
        assert show(live, job)["reason"] == "JobHeldUser"
        pinned = live.cli("update", job, "Priority=5000")
        assert pinned.returncode != 0 and "no fixed priority per job" in _said(pinned)
        live.cli("release", job, token=bob, check=True)
        mine = submit(live, begin="now+3600")
        live.cli("hold", mine, check=True)  # an administrator's hold of their own job is an admin hold too
        assert show(live, mine)["reason"] == "JobHeldAdmin"
        held = live.cli("submit", "--parsable", "-H", "--wrap", "true", check=True).stdout.strip()
        assert show(live, held)["reason"] == "JobHeldAdmin"  # sbatch -H by an administrator (Slurm's WAIT_HELD)
        his = live.cli("submit", "--parsable", "-H", "--wrap", "true", token=bob, check=True).stdout.strip()
        assert show(live, his)["reason"] == "JobHeldUser"
        live.cli("update", job, "Nice=100000", token=bob, check=True)
        prio = live.cli("prio", "-j", job, check=True).stdout.split()
        assert prio[prio.index(job) + 3] == "1", prio  # JOBID PARTITION USER PRIORITY: -100000 and more before
        shares = _said(live.cli("shares", check=True))
        assert "half-life of 00:10:00" in shares and "days" not in shares, shares
        cancel(live, job, mine, held, his)
    finally:
        live.stop()
