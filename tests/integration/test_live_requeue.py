"""`hal requeue` (scontrol requeue) through a real server: a running job stops and runs again under its id."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.integration.livekit import LiveServer, wait_running


def test_requeue_runs_a_job_again_under_its_id(server: LiveServer) -> None:
    script = server.work / "again.sh"
    script.write_text(
        "#!/bin/sh\n#SBATCH -o again.out --open-mode=append\n"
        'echo "run $SLURM_RESTART_COUNT"\n[ "$SLURM_RESTART_COUNT" = 1 ] && exit 0\nsleep 120\n'
    )
    job = server.cli("submit", "--parsable", str(script), check=True).stdout.strip()
    wait_running(server, job)
    _wait_for_line(server.work / "again.out")  # RUNNING comes before the script's echo: a requeue could beat it
    said = server.cli("requeue", job, check=True).stdout
    assert f"requeued job {job}" in " ".join(said.split())
    assert server.cli("wait", job, "--timeout", "90").returncode == 0
    rec = json.loads(server.cli("show", job, "--json", check=True).stdout)
    assert rec["state"] == "COMPLETED" and rec["restarts"] == 1, rec
    assert (server.work / "again.out").read_text() == "run \nrun 1\n"
    got = httpx.get(f"{server.url}/v1/jobs/{job}/events", headers={"Authorization": f"Bearer {server.token()}"})
    assert any(e["state"] == "REQUEUED" and "requeued by" in e["cause"] for e in got.json()["events"]), got.json()
    held = server.cli("submit", "--parsable", "-H", "--wrap", "true", check=True).stdout.strip()
    refused = server.cli("requeue", held)
    said = " ".join(refused.stderr.split())
    assert refused.returncode != 0 and "only running or ended jobs are requeued (PENDING)" in said, said
    server.cli("cancel", held, check=True)
    failed = server.cli(
        "submit",
        "--parsable",
        "-o",
        "f.out",
        "--open-mode=append",
        "--wrap",
        'echo "try $SLURM_RESTART_COUNT"; [ "$SLURM_RESTART_COUNT" = 1 ]',
        check=True,
    ).stdout.strip()
    assert server.cli("wait", failed, "--timeout", "60").returncode != 0
    after = server.cli("submit", "--parsable", "-d", f"afterok:{failed}", "--wrap", "true", check=True).stdout.strip()
    server.cli("requeue", failed, check=True)  # scontrol requeue takes an ended batch job: it runs again
    assert server.cli("wait", failed, "--timeout", "60").returncode == 0
    assert server.cli("wait", after, "--timeout", "60").returncode == 0  # its dependent follows the new attempt
    rec = json.loads(server.cli("show", failed, "--json", check=True).stdout)
    assert rec["state"] == "COMPLETED" and rec["restarts"] == 1, rec
    assert (server.work / "f.out").read_text() == "try \ntry 1\n"


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


TRAPPED = "trap 'sleep 3; exit 0' TERM; sleep 120 & wait"  # takes 3 s to stop: time for a second command


def test_a_requeue_survives_a_controller_kill_and_a_cancel_wins_over_it(tmp_path: Path) -> None:
    """QA: the requeue lived in memory only (a kill -9 before the job stopped ended it CANCELLED); a cancel after
    a requeue did nothing (the job ran again); a requeue after a cancel said it had requeued the job."""
    live = LiveServer(tmp_path, "--grace", "20")  # the jobs below take 3 s to stop: time for the second command
    live.start()
    try:
        script = live.work / "again.sh"
        script.write_text(
            '#!/bin/sh\necho "run $SLURM_RESTART_COUNT" >> runs.txt\n'
            '[ -n "$SLURM_RESTART_COUNT" ] && exit 0\nsleep 120\n'
        )
        job = live.cli("submit", "--parsable", str(script), check=True).stdout.strip()
        wait_running(live, job)
        _wait_for_line(live.work / "runs.txt")  # the first run's echo, before the requeue stops it
        live.cli("requeue", job, check=True)
        live.kill()
        live.start()
        assert live.cli("wait", job, "--timeout", "90").returncode == 0
        rec = json.loads(live.cli("show", job, "--json", check=True).stdout)
        assert rec["state"] == "COMPLETED" and rec["restarts"] == 1, rec
        assert (live.work / "runs.txt").read_text() == "run \nrun 1\n"
        orders = (("requeue", "cancel"), ("cancel", "requeue"))  # side by side: each job takes 3 s to stop
        others = [live.cli("submit", "--parsable", "--wrap", TRAPPED, check=True).stdout.strip() for _ in orders]
        for (first, then), other in zip(orders, others, strict=True):
            wait_running(live, other)
            live.cli(first, other, check=True)
            second = live.cli(then, other)
            if then == "requeue":
                assert second.returncode != 0 and "being cancelled" in " ".join(second.stderr.split()), second.stderr
        for (first, _), other in zip(orders, others, strict=True):
            live.cli("wait", other, "--timeout", "60")
            ended = json.loads(live.cli("show", other, "--json", check=True).stdout)
            assert ended["state"] == "CANCELLED" and ended["restarts"] == 0, (first, ended)
        asked = (["requeue", "cancel"], ["cancel"])  # QA: across a kill -9, the cancel was forgotten
        others = [live.cli("submit", "--parsable", "--wrap", TRAPPED, check=True).stdout.strip() for _ in asked]
        for verbs, other in zip(asked, others, strict=True):
            wait_running(live, other)
            for verb in verbs:
                live.cli(verb, other, check=True)
        live.kill()
        live.start()
        for verbs, other in zip(asked, others, strict=True):
            live.cli("wait", other, "--timeout", "60")
            ended = json.loads(live.cli("show", other, "--json", check=True).stdout)
            assert ended["state"] == "CANCELLED" and ended["restarts"] == 0, (verbs, ended)
    finally:
        live.stop()


def test_array_tasks_share_the_script_and_environment_stored_once(tmp_path: Path) -> None:
    """Each task row held the script and environment (QA: 100 KB x 1,000 tasks = 100 MB); tasks after the first
    now point at it, and a restart still runs every task with both."""
    import sqlite3

    live = LiveServer(tmp_path)
    live.start()
    try:
        with live.client() as c:
            env = {"BIG": "x" * 50_000, "PATH": "/usr/bin:/bin"}
            done = c.submit(wrap='echo "${#BIG} $SLURM_ARRAY_TASK_ID" >> sizes.txt', env=env,
                            options={"array": "0-3", "hold": True})  # fmt: skip
        db = sqlite3.connect(live.home / "hal.db")
        sizes = [n for (n,) in db.execute("SELECT length(request) FROM jobs ORDER BY id")]
        db.close()
        assert sizes[0] > 50_000 and max(sizes[1:]) < 5_000, sizes  # once, with the first task
        live.kill()
        live.start()  # the tasks are rebuilt from the records: the others read the first one's
        live.cli("release", str(done["job_id"]), check=True)
        assert live.cli("wait", str(done["job_id"]), "--timeout", "90").returncode == 0
        assert sorted((live.work / "sizes.txt").read_text().splitlines()) == [f"50000 {i}" for i in range(4)]
        with live.client() as c:
            assert c.get(done["job_ids"][2])["script"] == c.get(done["job_ids"][0])["script"] != ""
    finally:
        live.stop()


def test_a_requeued_ended_job_holds_back_the_jobs_that_saw_it_end(server: LiveServer) -> None:
    """QA: a dependent already queued (its afterok met) ran before the requeued job's new attempt."""
    first = server.cli("submit", "--parsable", "--wrap", "true", check=True).stdout.strip()
    assert server.cli("wait", first, "--timeout", "60").returncode == 0
    blocker = server.cli("submit", "--parsable", "-n", "8", "--wrap", "sleep 120", check=True).stdout.strip()
    wait_running(server, blocker)
    after = server.cli("submit", "--parsable", "-n", "8", "-d", f"afterok:{first}", "--wrap", "true", check=True)
    after_id = after.stdout.strip()
    time.sleep(1.0)
    assert json.loads(server.cli("show", after_id, "--json", check=True).stdout)["reason"] != "Dependency"
    server.cli("requeue", first, check=True)
    rec = json.loads(server.cli("show", after_id, "--json", check=True).stdout)
    assert rec["reason"] == "Dependency", rec
    server.cli("cancel", blocker, check=True)
    assert server.cli("wait", after_id, "--timeout", "60").returncode == 0
    ends = {j: json.loads(server.cli("show", j, "--json", check=True).stdout) for j in (first, after_id)}
    assert ends[first]["end_time"] <= ends[after_id]["start_time"], ends


def _wait_for_line(path: Path, timeout: float = 30.0) -> None:
    """A job is RUNNING once its process is launched, before its script has run a line."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().endswith("\n")):
        assert time.monotonic() < deadline, f"{path} got no line in {timeout:.0f} s"
        time.sleep(0.05)
