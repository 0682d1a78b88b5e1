"""Slurm's other --dependency forms typed to the real CLI against a real server: '?', a bare job id, aftercorr
and after:JOB+MIN (QA cli2 #2: each was refused)."""

from __future__ import annotations

from tests.integration.livekit import LiveServer


def test_slurm_dependency_forms_through_the_cli(server: LiveServer) -> None:
    def job(*args: str) -> str:
        return server.cli("submit", "--parsable", *args, check=True).stdout.strip()

    failed = job("--wrap", "exit 1")
    either = job("-d", f"afterok:{failed}?afternotok:{failed}", "--wrap", "true")
    bare = job("-d", failed, "--wrap", "true")
    late = job("-d", f"after:{failed}+0", "--wrap", "true")
    arr = job("--array", "0-1", "--wrap", "exit $SLURM_ARRAY_TASK_ID")
    corr = job("--array", "0-2", "-d", f"aftercorr:{arr}", "--wrap", "true")
    mixed = server.cli("submit", "-d", f"afterok:{failed}?afterok:{arr},afterok:{arr}", "--wrap", "true")
    assert mixed.returncode != 0 and "not both" in mixed.stderr
    assert f"Dependency=afterok:{failed}?afternotok:{failed}" in server.cli("show", either, check=True).stdout
    for done in (either, bare, late, f"{corr}_0", f"{corr}_2"):
        assert server.cli("wait", done, "--timeout", "60").returncode == 0, done
    queue = server.cli("queue", "-j", f"{corr}_1", "-o", "%i %E %r", check=True).stdout
    assert f"aftercorr:{arr}" in queue and "DependencyNeverSatisfied" in queue  # its counterpart failed
    server.cli("cancel", corr, check=True)
