"""A real server restarted on a smaller cluster file: the pending jobs it no longer fits stay PENDING with Slurm's
reason, as `hal queue`, `hal show` and `hal explain` say, instead of ending FAILED; an update that makes one fit
starts it, its dependents follow, and a restart on a cluster file that fits them again takes them back."""

from __future__ import annotations

from pathlib import Path

from tests.integration.livekit import LiveServer, show, until_state, wait_running

BIG = """name = "big"
[[nodes]]
prefix = "n"
count = 4
cpus = 2
partitions = ["batch", "debug"]
[[partitions]]
name = "batch"
default = true
[[partitions]]
name = "debug"
[topology]
levels = ["switch"]
fanouts = [4]
"""
SMALL = """name = "small"
[[nodes]]
prefix = "n"
count = 3
cpus = 2
partitions = ["batch"]
[[partitions]]
name = "batch"
default = true
[topology]
levels = ["switch"]
fanouts = [2]
"""  # one node fewer, the debug partition gone, and switches of two nodes


def _restart(live: LiveServer, toml: str) -> None:
    live.kill()
    live.cluster.write_text(toml)
    live.start()


def _reason(live: LiveServer, job: str, reason: str) -> dict[str, object]:
    rec = show(live, job)
    assert rec["state"] == "PENDING" and rec["reason"] == reason, rec
    return rec


def test_jobs_a_smaller_cluster_file_cannot_run_stay_pending(tmp_path: Path) -> None:
    cluster = tmp_path / "cluster.toml"
    cluster.write_text(BIG)
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:

        def sub(*args: str) -> str:
            later = ["--begin", "now+1hour"] if "--dependency" not in " ".join(args) else []
            done = live.cli("submit", "--parsable", "-t", "5", *later, *args, "--wrap", "sleep 1", check=True)
            return done.stdout.strip()

        wide = sub("-N", "4")
        topo = sub("-N", "3", "--topology", "required=switch")
        named = sub("-w", "n003")
        debug = sub("-p", "debug")
        after = sub(f"--dependency=afterok:{wide}")
        _restart(live, SMALL)
        expected = {
            wide: "PartitionNodeLimit",
            topo: "BadConstraints",
            named: "ReqNodeNotAvail, UnavailableNodes:n003",
            debug: "PartitionDown",
            after: "Dependency",
        }
        for job, reason in expected.items():
            _reason(live, job, reason)
        queue = live.cli("queue", check=True).stdout
        assert "(PartitionNodeLimit)" in queue and "(PartitionDown)" in queue and "(BadConstraints)" in queue, queue
        said = " ".join(live.cli("show", wide, check=True).stdout.split())
        assert "Reason=PartitionNodeLimit" in said and "Cause=no longer fits this cluster: needs 4 nodes" in said
        assert f"hal update {wide} NumNodes=N" in said, said
        told = " ".join(live.cli("explain", topo, check=True).stdout.split())
        assert "reason=BadConstraints" in told and "within one switch" in told, told
        refused = live.cli("update", wide, "NumNodes=4")
        assert refused.returncode != 0 and "could never run on this cluster" in refused.stderr, refused.stderr
        live.cli("update", wide, "NumNodes=3", "NumTasks=3", "StartTime=now", check=True)  # fits: it starts
        wait_running(live, wide)
        assert until_state(live, after, "COMPLETED")["state"] == "COMPLETED"  # its dependent ran after it
        live.cli("cancel", named, check=True)
        assert until_state(live, named, "CANCELLED")["cause"].startswith("cancelled by")
        _restart(live, SMALL)  # still too small: they still wait
        _reason(live, topo, "BadConstraints")
        _reason(live, debug, "PartitionDown")
        _restart(live, BIG)  # the administrator restored the cluster file: they fit, and wait for their --begin
        for job in (topo, debug):
            assert _reason(live, job, "BeginTime")["cause"] == "fits this cluster again"
        live.cli("cancel", topo, debug, check=True)
        assert "Traceback" not in live.log.read_text()
    finally:
        live.stop()
