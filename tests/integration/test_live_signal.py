"""sbatch --signal through a real server: the warning a job gets before its time limit (checkpoint, then exit)."""

from __future__ import annotations

import json
import time

import httpx

from tests.integration.livekit import LiveServer, wait_running


def test_signal_reaches_the_batch_shell_or_its_children_before_the_limit(server: LiveServer) -> None:
    """B: warns the batch shell alone (a trap in the script); without B: the script's children get the signal
    and the shell does not (Slurm signals the job's steps, not the batch shell). A 1-minute job warned 58 s
    early hears it 2 s in."""
    batch = server.work / "warn-batch.sh"
    batch.write_text(
        "#!/bin/bash\n#SBATCH --time=1\n#SBATCH --signal=B:USR1@58\n#SBATCH -o warn-batch.out\n"
        'trap "echo warned; exit 0" USR1\nfor i in $(seq 300); do sleep 0.1; done\necho "not warned"\n'
    )
    steps = server.work / "warn-steps.sh"
    steps.write_text(
        "#!/bin/bash\n#SBATCH -o warn-steps.out\n"
        "sh -c 'trap \"echo child warned; exit 0\" USR2; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done'\n"
        'echo "shell went on"\n'
    )
    jobs = [
        server.cli("submit", "--parsable", str(batch), check=True).stdout.strip(),
        server.cli("submit", "--parsable", "-t", "1", "--signal", "USR2@58", str(steps), check=True).stdout.strip(),
    ]
    for job in jobs:
        assert server.cli("wait", job, "--timeout", "60").returncode == 0
        rec = json.loads(server.cli("show", job, "--json", check=True).stdout)
        assert rec["state"] == "COMPLETED" and rec["end_time"] - rec["start_time"] < 30, rec
    assert (server.work / "warn-batch.out").read_text() == "warned\n"
    lines = (server.work / "warn-steps.out").read_text().splitlines()  # sh may also report its killed `sleep`
    assert "child warned" in lines and lines[-1] == "shell went on", lines
    bad = server.cli("submit", "-t", "5", "--signal=KILL@30", "--wrap", "true")
    assert bad.returncode != 0 and "cannot be sent as a warning" in " ".join(bad.stderr.split())


def test_cancel_with_a_signal_leaves_the_job_running(server: LiveServer) -> None:
    """scancel -s USR1: the script's children get it and the job goes on; -b reaches the batch shell too; a
    pending job cannot be signalled; each delivery is an event of the job."""
    (server.work / "child.sh").write_text(
        'trap "echo child poked" USR1\ntrap "" USR2\ntouch child.ready\n'
        "i=0; while [ ! -e stop ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n"
    )
    script = server.work / "poke.sh"
    script.write_text(
        '#!/bin/bash\n#SBATCH -o poke.out\ntrap "echo shell poked" USR2\nsh child.sh &\nwait; wait\necho done\n'
    )
    job = server.cli("submit", "--parsable", str(script), check=True).stdout.strip()
    _ready(server, "child.ready")  # both traps are set (the shell's before it started the child)
    assert server.cli("cancel", "-s", "USR1", job, check=True).stdout == ""
    assert server.cli("cancel", "--signal=SIGUSR2", "-b", job, check=True).stdout == ""
    time.sleep(1.0)
    assert json.loads(server.cli("show", job, "--json", check=True).stdout)["state"] == "RUNNING"
    (server.work / "stop").write_text("")
    assert server.cli("wait", job, "--timeout", "60").returncode == 0
    lines = (server.work / "poke.out").read_text().splitlines()
    assert {"child poked", "shell poked"} <= set(lines) and lines[-1] == "done", lines
    held = server.cli("submit", "--parsable", "-H", "--wrap", "true", check=True).stdout.strip()
    refused = server.cli("cancel", "-s", "USR1", held)
    assert refused.returncode != 0 and "none of its processes runs (PENDING)" in " ".join(refused.stderr.split())
    server.cli("cancel", held, check=True)
    bad = server.cli("cancel", "-s", "NOPE", job)
    assert bad.returncode != 0 and "NOPE is not a signal name or number" in " ".join(bad.stderr.split())
    got = httpx.get(f"{server.url}/v1/jobs/{job}/events", headers={"Authorization": f"Bearer {server.token()}"})
    causes = [str(e) for e in got.json()["events"]]
    assert any("SIGUSR1 sent by" in c and "to its steps" in c for c in causes), causes


def test_srun_survives_its_tasks_signal_and_the_scancel_scopes(server: LiveServer) -> None:
    """QA: USR1 also killed `srun`, so the script went on while its task was still checkpointing; -b reached
    every process; -s KILL left a FAILED job; a STOPped job never ran its TERM handler; one bad id stopped
    hal cancel from cancelling the rest."""
    steps = server.work / "ckpt.sh"
    steps.write_text(
        "#!/bin/bash\n#SBATCH -o ckpt.out\n"
        'srun sh -c \'trap "echo task got USR1; sleep 1; echo task done; exit 0" USR1; touch task.ready; '
        "while :; do sleep 0.2; done'\n"
        'echo "srun rc=$?"\n'
    )
    job = server.cli("submit", "--parsable", str(steps), check=True).stdout.strip()
    _ready(server, "task.ready")  # srun has started the task and its trap is set
    server.cli("cancel", "-s", "USR1", job, check=True)
    assert server.cli("wait", job, "--timeout", "60").returncode == 0
    lines = (server.work / "ckpt.out").read_text().splitlines()
    assert "task got USR1" in lines and lines[-2:] == ["task done", "srun rc=0"], lines
    batch = server.cli(
        "submit", "--parsable", "-o", "batch.out", "--wrap",
        'trap "echo shell got USR1" USR1; sleep 60 & child=$!; touch batch.ready; wait $child; '
        'kill -0 $child && echo child alive; kill $child',
        check=True,
    ).stdout.strip()  # fmt: skip
    _ready(server, "batch.ready")
    server.cli("cancel", "-s", "USR1", "-b", batch, check=True)
    server.cli("wait", batch, "--timeout", "60")
    assert (server.work / "batch.out").read_text().splitlines()[:2] == ["shell got USR1", "child alive"]
    stopped = server.cli(
        "submit", "--parsable", "-o", "stopped.out", "--wrap",
        'trap "echo cleaned up; exit 0" TERM; touch stopped.ready; while :; do sleep 0.2; done', check=True,
    ).stdout.strip()  # fmt: skip
    wait_running(server, stopped)
    _ready(server, "stopped.ready")
    server.cli("cancel", "-s", "STOP", "-f", stopped, check=True)
    both = server.cli("cancel", "99999", stopped)
    assert both.returncode == 1 and "99999" in both.stderr  # reported, and the next id still cancelled
    server.cli("wait", stopped, "--timeout", "60")
    assert "cleaned up" in (server.work / "stopped.out").read_text().splitlines()  # SIGCONT follows SIGTERM
    killed = server.cli(
        "submit", "--parsable", "--wrap", "trap 'echo TERM > termed.txt' TERM; sleep 60 & wait", check=True
    ).stdout.strip()
    held = server.cli("submit", "--parsable", "-H", "--wrap", "true", check=True).stdout.strip()
    wait_running(server, killed)
    for victim in (killed, held):
        server.cli("cancel", "-s", "KILL", victim, check=True)
        server.cli("wait", victim, "--timeout", "60")
        assert json.loads(server.cli("show", victim, "--json", check=True).stdout)["state"] == "CANCELLED"
    assert not (server.work / "termed.txt").exists()  # SIGKILL alone, as scancel -s KILL: no SIGTERM first


def _ready(server: LiveServer, name: str) -> None:
    """Wait for a job to say its traps are set (a fixed sleep lost the race on a loaded machine)."""
    deadline = time.monotonic() + 60
    while not (server.work / name).exists():
        assert time.monotonic() < deadline, f"{name} never appeared"
        time.sleep(0.05)


def test_srun_passes_usr1_on_to_its_tasks(server: LiveServer) -> None:
    """A script that traps its own warning and passes it on with `kill -USR1 $SRUN_PID`: srun (HAL's) forwards
    USR1/USR2 to its tasks and lives on, as Slurm's does."""
    script = server.work / "fwd.sh"
    script.write_text(
        "#!/bin/bash\n#SBATCH -o fwd.out\n"
        "srun sh -c 'trap \"echo task got USR1; exit 0\" USR1; touch fwd.ready; while :; do sleep 0.2; done' &\n"
        'SRUN=$!\nwhile [ ! -e fwd.ready ]; do sleep 0.1; done\nkill -USR1 $SRUN\nwait $SRUN\necho "srun rc=$?"\n'
    )
    job = server.cli("submit", "--parsable", str(script), check=True).stdout.strip()
    assert server.cli("wait", job, "--timeout", "60").returncode == 0
    lines = (server.work / "fwd.out").read_text().splitlines()
    assert "task got USR1" in lines and lines[-1] == "srun rc=0", lines
