"""`hal requeue` (scontrol requeue) through a real server: a running job stops and runs again under its id."""

from __future__ import annotations

import json
import time

import httpx

from tests.integration.livekit import LiveServer


def test_requeue_runs_a_job_again_under_its_id(server: LiveServer) -> None:
    script = server.work / "again.sh"
    script.write_text(
        "#!/bin/sh\n#SBATCH -o again.out --open-mode=append\n"
        'echo "run $SLURM_RESTART_COUNT"\n[ "$SLURM_RESTART_COUNT" = 1 ] && exit 0\nsleep 120\n'
    )
    job = server.cli("submit", "--parsable", str(script), check=True).stdout.strip()
    for _ in range(300):
        if json.loads(server.cli("show", job, "--json", check=True).stdout)["state"] == "RUNNING":
            break
        time.sleep(0.1)
    said = server.cli("requeue", job, check=True).stdout
    assert f"requeued 1 job(s) of {job}: {job}" in " ".join(said.split())
    assert server.cli("wait", job, "--timeout", "90").returncode == 0
    rec = json.loads(server.cli("show", job, "--json", check=True).stdout)
    assert rec["state"] == "COMPLETED" and rec["restarts"] == 1, rec
    assert (server.work / "again.out").read_text() == "run 0\nrun 1\n"
    got = httpx.get(f"{server.url}/v1/jobs/{job}/events", headers={"Authorization": f"Bearer {server.token()}"})
    assert any(e["state"] == "REQUEUED" and "requeued by" in e["cause"] for e in got.json()["events"]), got.json()
    held = server.cli("submit", "--parsable", "-H", "--wrap", "true", check=True).stdout.strip()
    refused = server.cli("requeue", held)
    assert refused.returncode != 0 and "only running jobs are requeued (PENDING)" in " ".join(refused.stderr.split())
    server.cli("cancel", held, check=True)


def test_kill_on_invalid_dep_cancels_what_can_never_run(server: LiveServer) -> None:
    failed = server.cli("submit", "--parsable", "--wrap", "exit 3", check=True).stdout.strip()
    assert server.cli("wait", failed, "--timeout", "60").returncode != 0
    doomed = server.cli(
        "submit", "--parsable", "-d", f"afterok:{failed}", "--kill-on-invalid-dep=yes", "--wrap", "true", check=True
    ).stdout.strip()
    kept = server.cli("submit", "--parsable", "-d", f"afterok:{failed}", "--wrap", "true", check=True).stdout.strip()
    assert server.cli("wait", doomed, "--timeout", "60").returncode != 0
    rec = json.loads(server.cli("show", doomed, "--json", check=True).stdout)
    assert rec["state"] == "CANCELLED" and "can never be satisfied" in rec["cause"], rec
    time.sleep(0.5)
    other = json.loads(server.cli("show", kept, "--json", check=True).stdout)
    assert other["state"] == "PENDING" and other["reason"] == "DependencyNeverSatisfied", other
    server.cli("cancel", kept, check=True)
    bad = server.cli("submit", "--kill-on-invalid-dep=maybe", "--wrap", "true")
    assert bad.returncode != 0 and "use yes or no" in bad.stderr
