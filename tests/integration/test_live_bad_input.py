"""Bad input through the real server: clear 4xx errors that name the problem, no crash, nothing lost."""

from __future__ import annotations

import getpass
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from hal.client import Client, HalError
from tests.integration.livekit import LiveServer, concurrently

HTTP = httpx.Client(timeout=60)  # raw calls; the 5 s default is too short on a loaded CI machine


def _refused(c: Client, status: int = 400, **kw: object) -> str:
    with pytest.raises(HalError) as exc:
        c.submit(**kw)  # type: ignore[arg-type]
    assert exc.value.status == status, str(exc.value)
    return str(exc.value)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("#!/bin/sh\n#SBATCH --bogus=1\ntrue\n", "line 2: unknown option --bogus"),
        ("#!/bin/sh\n#SBATCH --time=soon\ntrue\n", "--time='soon'"),
        ("#!/bin/sh\n#SBATCH --array=5-1\ntrue\n", "--array='5-1'"),
        ("#!/bin/sh\n#SBATCH --nodes=two\ntrue\n", "--nodes='two' is not a whole number"),
        ('#!/bin/sh\n#SBATCH --job-name="unclosed\ntrue\n', "line 2: cannot read directive"),
        ("#!/bin/sh\n#SBATCH --dependency=afterok:999999\ntrue\n", "no job 999999"),
        ("#!/bin/sh\n#SBATCH --dependency=whenever:1\ntrue\n", "--dependency='whenever:1'"),
        ("#!/bin/sh\n#SBATCH --partition=gpu\ntrue\n", "invalid partition 'gpu'; this cluster has batch, debug"),
        ("#!/bin/sh\n#SBATCH --partition=debug --time=1:00:00\ntrue\n", "PartitionTimeLimit"),
        ("#!/bin/sh\n#SBATCH --ntasks=9\ntrue\n", "needs 9 cpus in all, the partition has 8"),
        (
            "#!/bin/sh\n#SBATCH --cpus-per-task=3\ntrue\n",
            "3 cpus on one node (a one-task job runs on one node), the largest node in partition 'batch'",
        ),
        (
            "#!/bin/sh\n#SBATCH --mem=3G\ntrue\n",
            "3072 MB of memory on one node (a one-task job runs on one node), the largest node in partition 'batch'",
        ),
        ("#!/bin/sh\n#SBATCH --nodes=5\ntrue\n", "needs 5 nodes, the partition has 4"),
        ("#!/bin/sh\n#SBATCH --gpus=1\ntrue\n", "gpus"),
        ("", "script is empty"),
        ("   \n\n", "script is empty"),
        ("#!/bin/sh\n\x00\x01binary", "looks binary"),
        ("#!/bin/sh\r\ntrue\r\n", "DOS line breaks"),
    ],
)
def test_refused_with_a_message_naming_the_problem(sdk: Client, script: str, expected: str) -> None:
    assert expected in _refused(sdk, script=script)


def test_huge_script_is_refused_with_the_limit(sdk: Client) -> None:
    huge = "#!/bin/sh\n" + "# padding\n" * 500_000
    assert "4 MiB limit" in _refused(sdk, 413, script=huge)


def test_cli_refuses_binary_and_missing_files(server: LiveServer) -> None:
    blob = server.work / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    res = server.cli("submit", str(blob))
    assert res.returncode != 0 and "binary" in res.stderr
    big = server.work / "big.sh"  # refused before it is sent (QA: 70 MB were uploaded for the server's 413)
    big.write_text("#!/bin/sh\n" + "# padding\n" * 500_000)
    res = server.cli("submit", str(big))
    assert res.returncode == 2 and "larger than the 4 MiB limit for scripts (5,000,010 bytes)" in res.stderr
    res = server.cli("submit", str(server.work / "missing.sh"))
    assert res.returncode != 0 and "cannot read" in res.stderr
    res = server.cli("submit", "--wrap", "true", "--ntasks", "64")
    assert res.returncode == 1 and "needs 64 cpus in all" in res.stderr
    res = server.cli("queue", "-t", "BOGUS")  # was accepted and printed an empty queue
    assert res.returncode == 2 and "unknown job state 'BOGUS'" in res.stderr
    res = server.cli("history", "-s", "cd,ca,f", check=True)  # sacct's short names
    assert res.returncode == 0


def test_malformed_requests_get_4xx(server: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {server.token()}"}
    assert HTTP.post(f"{server.url}/v1/jobs", content=b"{not json", headers=auth).status_code == 422
    assert HTTP.post(f"{server.url}/v1/jobs", json={"script": 5}, headers=auth).status_code == 422
    assert HTTP.get(f"{server.url}/v1/jobs/abc", headers=auth).status_code == 400  # malformed: not "gone"
    assert HTTP.get(f"{server.url}/v1/jobs/99999", headers=auth).status_code == 404
    assert HTTP.delete(f"{server.url}/v1/jobs/12_x", headers=auth).status_code == 400


def test_unicode_names_round_trip(sdk: Client, server: LiveServer) -> None:
    name = "データ解析 ✓ émoji 🚀"
    job = sdk.submit(wrap="echo $SLURM_JOB_NAME", options={"job-name": name})["job_id"]
    rec = sdk.wait(job, timeout=60)
    assert rec["name"] == name and rec["state"] == "COMPLETED"
    assert sdk.logs(job).strip() == name
    assert name in server.cli("history", "-o", "JobID,JobName%40", check=True).stdout


def test_1000_concurrent_submissions_nothing_lost(sdk: Client, server: LiveServer) -> None:
    clients = [server.client() for _ in range(16)]

    def one(i: int) -> int:
        c = clients[i % 16]
        return int(c.submit(wrap=f"echo {i}", options={"begin": "now+3600"}, idempotency_key=f"k{i}")["job_id"])

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(one, range(1000)))
    for c in clients:
        c.close()
    assert len(set(ids)) == 1000
    pending = {j["job_id"] for j in sdk.list(state="PENDING")}
    assert set(ids) <= pending
    assert sdk.submit(wrap="echo 7", idempotency_key="k7")["job_ids"] == [ids[7]]  # a retry is not a new job
    with pytest.raises(HalError, match="idempotency key 'k7' was used for another request"):
        sdk.submit(wrap="echo other", idempotency_key="k7")  # returned job 7 silently; 'echo other' never ran
    with pytest.raises(HalError, match="unknown option --tim"):
        sdk.submit(wrap="true", options={"tim": "0:10"})  # was ignored: the job ran without a time limit
    assert sdk.get(ids[0])["reason"] == "BeginTime"
    assert HTTP.get(f"{server.url}/health").json()["ok"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(sdk.cancel, ids[:200]))
    assert {sdk.get(j)["state"] for j in ids[:200]} == {"CANCELLED"}


def test_history_parsable_with_reason_and_node_count(sdk: Client, server: LiveServer) -> None:
    """sacct -P -o JobID,State,Reason,NNodes: whole values for scripts; a failed job says why."""
    job = sdk.submit(wrap="exit 3", options={"nodes": "1"})["job_id"]
    sdk.wait(job, timeout=60)
    res = server.cli("history", "-P", "-j", str(job), "-o", "JobID,State,ExitCode,NNodes,QOS,Reason", check=True)
    header, row = res.stdout.strip().splitlines()
    assert header == "JobID|State|ExitCode|NNodes|QOS|Reason"
    fields = row.split("|")
    assert fields[:4] == [str(job), "FAILED", "3:0", "1"] and fields[5], row
    assert "Reason=NonZeroExitCode" in server.cli("show", str(job), check=True).stdout  # as scontrol (was None)
    bob = server.new_user("bob")  # -a from a user: only their jobs, and said so
    res = server.cli("history", "-a", token=bob, check=True)
    assert "need an admin token; these are only yours" in " ".join(res.stderr.split())

    # Slurm's scopes without -a/--all: an admin sees every user's jobs (squeue; sacct as root), a user their own
    # (PrivateData=jobs), silently; --me and -u narrow an admin's view.
    def listed(*args: str, token: str | None = None) -> set[str]:
        cols = ["-h", "-o", "%i"] if args[0] in ("queue", "squeue") else ["-n", "-o", "JobID"]
        res = server.cli(*args, *cols, token=token, check=True)
        assert not res.stderr.strip(), res.stderr
        return set(res.stdout.split())

    theirs = str(server.client(bob).submit(wrap="true")["job_id"])
    # the listings of each step run side by side (CLI processes that only read: their order is not tested)
    everyone, mine_only, bobs = concurrently(
        lambda: listed("history"),
        lambda: listed("history", "-u", getpass.getuser()),
        lambda: listed("history", token=bob),
    )
    assert {str(job), theirs} <= everyone and theirs not in mine_only
    assert bobs == {theirs}
    pending = str(sdk.submit(wrap="true", options={"begin": "now+3600"})["job_id"])
    other = str(server.client(bob).submit(wrap="true", options={"begin": "now+3600"})["job_id"])
    me = getpass.getuser()  # QA: -u a,b listed nothing; -a and --me were refused; -j with another's id failed
    queue, queue_me, queue_bob, queue_u, history_u, queue_a, history_me, squeue_a, sacct, history, shown = concurrently(
        lambda: listed("queue"),
        lambda: listed("queue", "--me"),
        lambda: listed("queue", token=bob),
        lambda: listed("queue", "-u", f"bob,{me}"),
        lambda: listed("history", "-u", f"{me},bob"),
        lambda: listed("queue", "-a"),
        lambda: listed("history", "--me"),
        lambda: listed("squeue", "-a"),
        lambda: listed("sacct"),
        lambda: listed("history"),
        lambda: server.cli("show", "job", pending, check=True).stdout,
    )
    assert {pending, other} <= queue and queue_me & {pending, other} == {pending}
    assert queue_bob == {other}
    assert {pending, other} <= queue_u and {str(job), theirs} <= history_u
    assert {pending, other} <= queue_a and theirs not in history_me
    assert squeue_a == queue and sacct == history  # Slurm's names
    assert f"JobId={pending} " in shown  # scontrol show job N
    mixed = server.cli("history", "-n", "-o", "JobID", "-j", f"{theirs},{job}", token=bob)
    assert mixed.returncode == 0 and mixed.stdout.split() == [theirs] and "another user" in mixed.stderr
    sdk.cancel(pending)
    server.client(bob).cancel(other)
