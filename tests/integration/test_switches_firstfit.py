"""--switches under placement = "firstfit" is accepted and ignored, as Slurm without topology/tree ignores it
(QA: it was refused, where README promises a --switches count is never a refusal), said at submission and by
`hal show`; --segment and --topology, which first fit cannot honour, are still refused, saying why."""

from __future__ import annotations

from pathlib import Path

from tests.integration.livekit import LiveServer, finished


def _said(proc: object) -> str:
    return " ".join((getattr(proc, "stdout", "") + getattr(proc, "stderr", "")).split())


def test_switches_are_ignored_and_said_under_first_fit(tmp_path: Path) -> None:
    profile = tmp_path / "prof.toml"
    profile.write_text('[scheduler]\nplacement = "firstfit"\n')
    live = LiveServer(tmp_path, "--profile", str(profile))
    live.start()
    try:
        sub = live.cli("submit", "--parsable", "-N", "2", "--switches=1@5:00", "-t", "1", "--wrap", "true")
        assert sub.returncode == 0, _said(sub)
        assert "--switches=1 accepted but ignored: the profile's placement is 'firstfit'" in _said(sub)
        job = sub.stdout.strip().split(";")[0]
        assert finished(live, job) == "COMPLETED"
        shown = _said(live.cli("show", job, check=True))
        assert 'Switches=1@00:05:00 (ignored: the profile\'s placement is not "topology")' in shown, shown
        for args in (["--segment=2"], ["--topology", "required=switch"]):
            refused = live.cli("submit", "-N", "2", *args, "-t", "1", "--wrap", "true")
            said = _said(refused)
            assert refused.returncode != 0 and 'need placement = "topology"' in said, said
            assert "place by node order alone" in said, said
    finally:
        live.stop()
