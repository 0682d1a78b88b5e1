"""End to end through a real server, the real CLI and the SDK: the job kinds users submit every day."""

from __future__ import annotations

import getpass
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from hal.client import Client, HalError
from tests.integration.livekit import HAL, LiveServer

HTTP = httpx.Client(timeout=60)  # raw calls; the 5 s default is too short on a loaded CI machine


def test_single_job_through_the_cli(server: LiveServer) -> None:
    script = server.work / "hello.sh"
    script.write_text(
        "#!/bin/bash\n#SBATCH --job-name=hello\n#SBATCH --time=1:00\n#HAL --output=hello-%j.out\n"
        'echo "job=$SLURM_JOB_ID hal=$HAL_JOB_ID name=$SLURM_JOB_NAME"\n'
    )
    res = server.cli("submit", str(script), check=True)
    job = res.stdout.split()[-1]
    assert res.stdout.startswith("Submitted batch job ")
    assert server.cli("wait", job, "--timeout", "60").returncode == 0
    assert (server.work / f"hello-{job}.out").read_text().strip() == f"job={job} hal={job} name=hello"
    hist = json.loads(server.cli("history", "--json", "-j", job, check=True).stdout)["jobs"]
    assert hist[0]["state"] == "COMPLETED" and hist[0]["exit_code"] == 0
    table = server.cli("history", "--format", "JobID,JobName,State,ExitCode", check=True).stdout
    assert f"{job}" in table and "hello" in table and "COMPLETED" in table
    show = server.cli("show", job, check=True).stdout
    assert f"JobId={job} JobName=hello" in show and "JobState=COMPLETED" in show


def test_array_of_100(sdk: Client, server: LiveServer) -> None:
    done = sdk.submit(wrap="echo task $SLURM_ARRAY_TASK_ID", options={"array": "0-99", "output": "arr-%A_%a.out"})
    assert len(done["job_ids"]) == 100
    rec = sdk.wait(done["job_id"], timeout=150)
    assert rec["task_states"] == {"COMPLETED": 100}
    task = sdk.get(done["job_ids"][57])  # a task by its own id is that task, not its array (QA)
    assert task["id"] == f"{done['job_id']}_57" and "task_states" not in task
    for i in (0, 57, 99):
        assert (server.work / f"arr-{done['job_id']}_{i}.out").read_text().strip() == f"task {i}"


def test_array_limit_and_dependency_chain(sdk: Client, server: LiveServer) -> None:
    log = server.work / "chain.txt"
    a = sdk.submit(wrap=f"sleep 2; echo a >> {log}")["job_id"]  # long enough to see c wait on a loaded machine
    b = sdk.submit(wrap=f"echo b >> {log}", options={"dependency": f"afterok:{a}"})["job_id"]
    c = sdk.submit(wrap=f"echo c >> {log}", options={"dependency": f"afterok:{b}"})["job_id"]
    assert sdk.get(c)["reason"] == "Dependency"
    assert "EligibleTime=Unknown" in server.cli("show", str(c), check=True).stdout  # not its submit time (QA)
    fail = sdk.submit(wrap="exit 1")["job_id"]
    never = sdk.submit(wrap="true", options={"dependency": f"afterok:{fail}"})["job_id"]
    rescue = sdk.submit(wrap="true", options={"dependency": f"afternotok:{fail}"})["job_id"]
    limited = sdk.submit(wrap="sleep 0.3", options={"array": "0-5%2"})["job_id"]
    # an array is judged by its worst task (Slurm: its highest exit code): one failure releases afternotok
    mixed = sdk.submit(wrap="exit $((SLURM_ARRAY_TASK_ID == 2))", options={"array": "0-3"})["job_id"]
    cleanup = sdk.submit(wrap="true", options={"dependency": f"afternotok:{mixed}"})["job_id"]
    proceed = sdk.submit(wrap="true", options={"dependency": f"afterok:{mixed}"})["job_id"]
    after_all = sdk.submit(wrap="true", options={"dependency": f"afterany:{mixed}"})["job_id"]
    assert sdk.wait(c, timeout=60)["state"] == "COMPLETED"
    assert log.read_text().split() == ["a", "b", "c"]
    assert sdk.get(b)["start_time"] >= sdk.get(a)["end_time"]
    assert sdk.wait(rescue, timeout=60)["state"] == "COMPLETED"
    assert sdk.get(never)["reason"] == "DependencyNeverSatisfied"
    tasks = sdk.wait(limited, timeout=60)["tasks"]
    spans = sorted((t["start_time"], t["end_time"]) for t in tasks)
    overlap = max(sum(1 for s, e in spans if s <= t0 < e) for t0, _ in spans)
    assert overlap <= 2
    assert sdk.wait(cleanup, timeout=60)["state"] == "COMPLETED"  # it stayed DependencyNeverSatisfied
    assert sdk.wait(after_all, timeout=60)["state"] == "COMPLETED"
    assert sdk.get(proceed)["reason"] == "DependencyNeverSatisfied"
    assert min(sdk.get(cleanup)["start_time"], sdk.get(after_all)["start_time"]) >= max(
        t["end_time"] for t in sdk.get(mixed)["tasks"]
    )
    sdk.cancel(never)
    sdk.cancel(proceed)


def test_multi_node_job_gets_its_nodes(sdk: Client, server: LiveServer) -> None:
    script = "#!/bin/sh\n#SBATCH --nodes=3 --ntasks-per-node=2\necho $HAL_NODELIST $SLURM_NNODES $SLURM_NTASKS\n"
    job = sdk.submit(script)["job_id"]
    rec = sdk.wait(job, timeout=60)
    assert rec["state"] == "COMPLETED" and rec["alloc_cpus"] == 6
    assert sdk.logs(job).split() == [rec["nodelist"], "3", "6"]
    assert rec["nodelist"].startswith("vn[")


def test_timeout_cancel_failure_and_memory_kill(sdk: Client, server: LiveServer) -> None:
    timeout = sdk.submit(wrap="sleep 60", options={"time": "0:02"})["job_id"]
    cancel = sdk.submit(wrap="sleep 60")["job_id"]
    failed = sdk.submit(wrap="echo oops >&2; exit 3", options={"error": "err-%j.txt"})["job_id"]
    hog = sdk.submit(wrap="python3 -c 'b = bytearray(600 * 1024 * 1024); print(len(b))'", options={"mem": "64M"})
    server.cli("wait", str(cancel), "--timeout", "1")  # let it start
    assert server.cli("cancel", str(cancel)).returncode == 0
    assert sdk.wait(cancel, timeout=30)["state"] == "CANCELLED"
    assert sdk.wait(timeout, timeout=30)["state"] == "TIMEOUT"
    rec = sdk.wait(failed, timeout=30)
    assert (rec["state"], rec["exit_code"]) == ("FAILED", 3)
    assert sdk.logs(failed, "stderr").strip() == "oops"
    assert sdk.wait(hog["job_id"], timeout=30)["state"] == "OUT_OF_MEMORY"


def test_second_user_is_denied_the_first_users_job(sdk: Client, server: LiveServer) -> None:
    job = sdk.submit(wrap="sleep 30")["job_id"]
    bob = server.new_user("bob")
    res = server.cli("show", str(job), token=bob)
    assert res.returncode == 1 and "another user" in res.stderr
    res = server.cli("cancel", str(job), token=bob)
    assert res.returncode == 1 and "another user" in res.stderr
    with server.client(bob) as as_bob:
        with pytest.raises(HalError) as exc:
            as_bob.cancel(job)
        assert exc.value.status == 403
        assert all(j["user"] == "bob" for j in as_bob.list(all_users=True))
        assert as_bob.summary()["running"] + as_bob.summary()["pending"] >= 1  # the summary is for everyone
        with pytest.raises(HalError) as exc:
            as_bob.list(user=sdk.whoami()["user"])
        assert exc.value.status == 403
    assert sdk.cancel(job) == [job]
    assert HTTP.get(f"{server.url}/v1/jobs").status_code == 401
    assert HTTP.get(f"{server.url}/v1/jobs", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_queue_nodes_metrics_and_openapi(sdk: Client, server: LiveServer) -> None:
    job = sdk.submit(wrap="sleep 30", options={"job-name": "watched"})["job_id"]
    queue = server.cli("queue", check=True).stdout
    assert "JOBID" in queue and "NODELIST(REASON)" in queue and "watched" in queue
    data = json.loads(server.cli("queue", "--json", check=True).stdout)
    assert any(j["job_id"] == job for j in data["jobs"])
    nodes = server.cli("nodes", check=True).stdout
    assert "batch*" in nodes and "vn[" in nodes
    assert len(json.loads(server.cli("nodes", "--json", check=True).stdout)["nodes"]) == 4
    metrics = HTTP.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {server.token()}"}).text
    for name in ("hal_queue_jobs", "hal_running_jobs", "hal_resources_allocated", "hal_resources_total",
                 "hal_cycle_duration_seconds_bucket", "hal_jobs_submitted_total", "hal_jobs_ended_total"):  # fmt: skip
        assert name in metrics
    spec = HTTP.get(f"{server.url}/openapi.json").json()
    assert "/v1/jobs" in spec["paths"]
    sdk.cancel(job)
    assert Path(server.home / "hal.db").exists()


def test_a_script_files_name_is_the_default_job_name(server: LiveServer) -> None:
    """As sbatch: without -J or a --job-name directive, the job is named after its script file."""
    plain = server.work / "train_model.sh"
    plain.write_text("#!/bin/sh\n#SBATCH --time=1:00\ntrue\n")
    named = server.work / "other.sh"
    named.write_text("#!/bin/sh\n#SBATCH -J mine\ntrue\n")
    first = server.cli("submit", "--parsable", str(plain), check=True).stdout.strip()
    second = server.cli("submit", "--parsable", str(named), check=True).stdout.strip()
    third = server.cli("submit", "--parsable", "-J", "given", str(plain), check=True).stdout.strip()
    names = [json.loads(server.cli("show", j, "--json", check=True).stdout)["name"] for j in (first, second, third)]
    assert names == ["train_model.sh", "mine", "given"]


def test_slurm_scripts_as_a_group_has_them(server: LiveServer) -> None:
    """Habits a QA migration found broken: script arguments, a script piped in, --mail-type in every script,
    --comment, --open-mode=append, sbatch --wait's exit code, SLURM_RESTART_COUNT, --nice/--no-requeue."""
    script = server.work / "args.sh"
    script.write_text(
        '#!/bin/sh\n#SBATCH --mail-type=END,FAIL --mail-user=me@example.org\n#SBATCH --output=args-%j.out\n'
        'echo "1=$1 2=$2 3=$3 n=$# restarts=$SLURM_RESTART_COUNT"\n'
    )  # fmt: skip
    done = server.cli("submit", "--parsable", "--comment", "run 7 of the sweep", str(script), "alpha", "b 2", "-x")
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip()
    assert "HAL sends no mail" in " ".join(done.stderr.split())
    assert server.cli("wait", job, "--timeout", "60").returncode == 0
    assert (server.work / f"args-{job}.out").read_text() == "1=alpha 2=b 2 3=-x n=3 restarts=\n"
    assert "Comment=run 7 of the sweep" in " ".join(server.cli("show", job, check=True).stdout.split())
    piped = server.cli("submit", "--parsable", "-o", "piped.out", stdin="#!/bin/sh\necho from stdin\n")
    assert piped.returncode == 0, piped.stderr
    assert server.cli("wait", piped.stdout.strip(), "--timeout", "60").returncode == 0
    assert (server.work / "piped.out").read_text() == "from stdin\n"
    empty = server.cli("submit")
    assert empty.returncode != 0 and "standard input (it was empty)" in " ".join(empty.stderr.split())
    for word in ("one", "two"):
        appended = server.cli("submit", "--parsable", "--open-mode=append", "-o", "log.txt", "--wrap", f"echo {word}")
        assert server.cli("wait", appended.stdout.strip(), "--timeout", "60").returncode == 0
    assert (server.work / "log.txt").read_text() == "one\ntwo\n"
    waited = server.cli("submit", "--wait", "--nice", "5", "--no-requeue", "--wrap", "exit 3")
    assert waited.returncode == 3 and waited.stdout.startswith("Submitted batch job "), waited.stderr
    assert server.cli("submit", "--wait", "--wrap", "true").returncode == 0
    assert server.cli("submit", "--wait", "--wrap", "kill -9 $$").returncode == 137  # 128+9, as sbatch --wait
    bad = server.cli("submit", "--open-mode=sideways", "--wrap", "true")
    assert bad.returncode != 0 and "use append or truncate" in bad.stderr


def test_exclude_keeps_jobs_off_nodes(server: LiveServer) -> None:
    ran = []
    for _ in range(3):
        job = server.cli("submit", "--parsable", "-x", "vn[000-002]", "--wrap", "true", check=True).stdout.strip()
        assert server.cli("wait", job, "--timeout", "60").returncode == 0
        ran.append(json.loads(server.cli("show", job, "--json", check=True).stdout)["nodelist"])
    assert ran == ["vn003"] * 3
    assert "ExcNodeList=vn[000-002]" in server.cli("show", job, check=True).stdout
    for args, said in [
        (["-x", "vn[000-003]"], "left after --exclude"),
        (["-x", "vn009"], "--exclude names nodes that do not exist"),  # a typo would exclude nothing
        (["-x", "vn001", "-w", "vn001"], "name the same node"),
    ]:
        done = server.cli("submit", *args, "--wrap", "true")
        assert done.returncode != 0 and said in " ".join(done.stderr.split()), (args, done.stderr)


def test_squeue_and_scancel_idioms(server: LiveServer) -> None:
    """`squeue -h -j $J -o %T`, `--me`, and `scancel -u/-n/-t` (QA: scripts built on them broke)."""
    held = server.cli("submit", "--parsable", "-H", "-J", "sweep", "--wrap", "true", check=True).stdout.strip()
    other = server.cli("submit", "--parsable", "-H", "-J", "keep", "--wrap", "true", check=True).stdout.strip()
    assert server.cli("queue", "-h", "-j", held, "-o", "%T", check=True).stdout == "PENDING\n"
    lines = server.cli("queue", "--me", "-o", "%.8i|%j|%t|%r", check=True).stdout.splitlines()
    assert lines[0] == "   JOBID|NAME|ST|REASON" and f"{held:>8}|sweep|PD|JobHeldAdmin" in lines  # by the admin
    assert server.cli("queue", "-h", check=True).stdout.split()[0] != "JOBID"
    bad = server.cli("queue", "-o", "%i %W")
    assert bad.returncode != 0 and "unknown --format code(s) %W" in bad.stderr
    long = server.cli("queue", "-h", "-j", f"{held},{other}", "-O", "JobID:8,Name:6", "-S", "-i", check=True).stdout
    assert long.splitlines() == [f"{other:<8}keep  ", f"{held:<8}sweep "]  # squeue -O and --sort=-i
    server.cli("cancel", "-n", "sweep", "-t", "PD", check=True)
    assert server.cli("queue", "-h", "-j", f"{held},{other}", "-o", "%j", check=True).stdout == "keep\n"
    server.cli("cancel", "--me", "-n", "keep", check=True)
    assert server.cli("queue", "-h", "-j", other, "-o", "%T", check=True).stdout == ""
    assert server.cli("cancel").returncode != 0
    nobody = server.cli("cancel", "-u", "nosuchuser")  # scancel: "Invalid user name", exit 1 (it said no match, 0)
    assert nobody.returncode == 1 and "Invalid user name: nosuchuser" in nobody.stderr, nobody
    me = getpass.getuser()
    assert server.cli("cancel", "-u", me, check=True).returncode == 0  # a real user with nothing left: no error
    refused = server.cli("cancel", "--me", "-t", "COMPLETED")
    assert refused.returncode != 0 and "only jobs that have not ended" in " ".join(refused.stderr.split())


def test_srun_and_hal_inside_a_job_whatever_the_submitters_path(server: LiveServer) -> None:
    """A Slurm script's srun failed with 'command not found' (and so did hal) when the submitter had not put
    HAL's bin folder on PATH: jobs now find both, appended to the PATH they were submitted with."""
    script = server.work / "steps.sh"
    script.write_text(
        "#!/bin/sh\n#SBATCH -N 2 --ntasks-per-node=2 -o steps.out\n"
        "srun -l sh -c 'echo rank $SLURM_PROCID on $SLURM_NODEID' | sort\n"
        "srun -N 1 -n 1 sh -c 'echo one $SLURM_STEP_NUM_NODES'\n"
        "srun --ntasks-per-node=1 sh -c 'echo per-node $SLURM_PROCID $SLURM_NODEID' | sort\n"
        "hal run -n 1 true && echo hal-found\n"
    )
    env_path = "/usr/bin:/bin"  # no venv on it
    res = subprocess.run(
        [*HAL, "submit", "--parsable", str(script)], env={**server.env, "PATH": env_path}, cwd=server.work,
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    job = res.stdout.strip()
    assert server.cli("wait", job, "--timeout", "90").returncode == 0, (server.work / "steps.out").read_text()
    lines = (server.work / "steps.out").read_text().splitlines()
    assert [line for line in lines if not line.startswith("hal run: note:")] == [
        "0: rank 0 on 0", "1: rank 1 on 0", "2: rank 2 on 1", "3: rank 3 on 1", "one 1",
        "per-node 0 0", "per-node 1 1", "hal-found",
    ]  # fmt: skip


def test_sacct_spellings_brief_and_more_fields(server: LiveServer) -> None:
    job = server.cli("submit", "--parsable", "--wrap", "true", check=True).stdout.strip()
    assert server.cli("wait", job, "--timeout", "60").returncode == 0
    res = server.cli("history", "-P", "-X", "-j", job, "-o", "jobid,jobidraw,ntasks,workdir,elapsed", check=True)
    header, row = res.stdout.strip().splitlines()
    assert header == "JobID|JobIDRaw|NTasks|WorkDir|Elapsed"  # sacct's spelling, as typed in any case
    assert row.split("|")[:4] == [job, job, "1", str(server.work)] and row.split("|")[4].startswith("00:00:0")
    brief = server.cli("history", "--brief", "-P", "-j", job, check=True).stdout.splitlines()
    assert brief == ["JobID|State|ExitCode", f"{job}|COMPLETED|0:0"]
    assert server.cli("history", "-p", "-n", "-j", job, "-o", "JobID,State", check=True).stdout == f"{job}|COMPLETED|\n"
    cut = server.cli("history", "-j", job, "-o", "JobID,State%5,ElapsedRaw,CPUTimeRAW", check=True).stdout.splitlines()
    assert len(cut) == 3 and cut[2].split()[1] == "COMP+"  # NAME%WIDTH cuts on one line, marked as sacct marks it
    noted = server.cli("submit", "--parsable", "--comment", "sweep 7", "--wrap", "true", check=True).stdout.strip()
    assert server.cli("wait", noted, "--timeout", "60").returncode == 0
    shown = server.cli("history", "-P", "-n", "-S", "00:00", "-o", "JobID,Comment", check=True).stdout
    assert f"{noted}|sweep 7" in shown.splitlines()


def test_users_cannot_jump_the_queue_and_tokens_are_not_stored(server: LiveServer) -> None:
    """A user's --nice=-10000 put their job ahead of everyone's; the submitter's HAL_TOKEN was kept in plain text
    with the job (the database is meant to hold token digests only)."""
    import sqlite3

    bob = server.new_user("bob")
    refused = server.cli("submit", "--nice=-5", "--wrap", "true", token=bob)
    assert refused.returncode != 0 and "only admins may raise a job's priority" in " ".join(refused.stderr.split())
    job = server.cli("submit", "--parsable", "--nice=5", "--wrap", "echo $HAL_TOKEN", token=bob, check=True)
    assert server.cli("wait", job.stdout.strip(), "--timeout", "60").returncode == 0
    assert server.cli("submit", "--parsable", "--nice=-5", "--wrap", "true", check=True).returncode == 0  # admin
    with sqlite3.connect(server.home / "hal.db") as db:
        stored = "\n".join(r[0] for r in db.execute("select request from jobs"))
    assert bob not in stored


def test_srun_takes_the_options_real_scripts_carry(server: LiveServer) -> None:
    """srun -u, --exact, --overlap, -K, --cpu-bind, -J, --export=ALL made every call fail (QA); -N1 in a
    --ntasks-per-node job starts that many tasks, and a step larger than the allocation is refused."""
    script = server.work / "flags.sh"
    script.write_text(
        "#!/bin/sh\n#SBATCH -N 2 --ntasks-per-node=2 -o flags.out\n"
        "srun -u --exact --overlap -K --cpu-bind=cores -J step --export=ALL -n1 echo flags-ok\n"
        "srun -N1 sh -c 'echo n1 $SLURM_PROCID' | sort\n"
        "srun -n9 true; echo over=$?\n"
        "srun --mpi=pmix -n1 true; echo pmix=$?\n"
    )
    job = server.cli("submit", "--parsable", str(script), check=True).stdout.strip()
    assert server.cli("wait", job, "--timeout", "90").returncode == 0
    lines = (server.work / "flags.out").read_text().splitlines()
    said = [line for line in lines if line.startswith(("flags-ok", "n1 ", "over=", "pmix="))]
    assert said == ["flags-ok", "n1 0", "n1 1", "over=2", "pmix=2"], lines  # HAL offers no PMI: refused, exit 2
    assert "--mpi=pmix: HAL offers no PMI" in "\n".join(lines)


def test_wrap_with_an_argument_and_a_relative_chdir(server: LiveServer) -> None:
    done = server.cli("submit", "--wrap", "echo $1", "extra")
    assert done.returncode != 0 and "not permitted with --wrap" in done.stderr  # it tried to read a file 'extra'
    (server.work / "sub").mkdir(exist_ok=True)
    job = server.cli("submit", "--parsable", "-D", "sub", "-o", "pwd.out", "--wrap", "pwd", check=True).stdout.strip()
    assert server.cli("wait", job, "--timeout", "60").returncode == 0  # a relative -D was refused
    assert (server.work / "sub" / "pwd.out").read_text().strip() == str((server.work / "sub").resolve())


def test_names_that_look_like_markup_or_emoji_codes_print_as_typed(server: LiveServer) -> None:
    """A job named 'x[/]' made hal queue, hal queue --start and hal history raise a MarkupError for its owner and
    for admins (the record stays, so history stayed broken); ':100:' printed as an emoji."""
    odd = server.cli("submit", "--parsable", "-H", "-J", "x[/]", "--comment", "[bold]c", "--wrap", "true", check=True)
    emoji = server.cli("submit", "--parsable", "-H", "-J", ":100:", "--wrap", "true", check=True).stdout.strip()
    job = odd.stdout.strip()
    for args in (("queue",), ("queue", "--start"), ("history",), ("show", job), ("show", emoji), ("prio",)):
        got = server.cli(*args, check=True)
        assert "Traceback" not in got.stderr and "💯" not in got.stdout, (args, got.stderr)
    assert "x[/]" in server.cli("queue", check=True).stdout and ":100:" in server.cli("history", check=True).stdout
    assert "Comment=[bold]c" in server.cli("show", job, check=True).stdout
    long = server.cli("queue", "-l", check=True).stdout.split("\n")[1].split()  # squeue -l: a date line, then
    assert long == [
        "JOBID",
        "PARTITION",
        "NAME",
        "USER",
        "STATE",
        "TIME",
        "TIME_LIMI",
        "NODES",
        "NODELIST(REASON)",
    ]  # as cut
    server.cli("cancel", job, emoji, check=True)
    assert "x[/]" in server.cli("history", check=True).stdout
    assert "HH:MM:SS" in server.cli("submit", "--help", check=True).stdout  # 'H:M:S' showed as 'HⓂS'


def test_a_request_the_server_does_not_offer_says_so(server: LiveServer) -> None:
    """A newer CLI against an older server answered 'not found: Not Found' (QA: hal update after an upgrade)."""
    with server.client() as c, pytest.raises(HalError, match="does not offer POST /v1/jobs/1/frobnicate"):
        c._call("POST", "/v1/jobs/1/frobnicate")
    with server.client() as c, pytest.raises(HalError, match="no job 987654"):  # a real 404 keeps its reason
        c.get(987654)


def test_token_create_writes_a_token_the_running_server_takes(server: LiveServer) -> None:
    """`hal token create` writes straight into the database (the other tests make users through the API): the
    running server takes the new token at once, as the user it names, and --admin makes an administrator."""
    made = server.cli("token", "create", "--user", "tess", "--home", str(server.home), check=True).stdout.strip()
    job = server.cli("submit", "--parsable", "-H", "--wrap", "true", token=made, check=True).stdout.strip()
    assert json.loads(server.cli("show", job, "--json", token=made, check=True).stdout)["user"] == "tess"
    refused = server.cli("resume", "vn000", token=made)
    assert refused.returncode != 0 and "only admins" in refused.stderr
    boss = server.cli("token", "create", "--user", "root2", "--admin", "--home", str(server.home), check=True)
    server.cli("cancel", job, token=boss.stdout.strip(), check=True)  # an administrator cancels anyone's job
