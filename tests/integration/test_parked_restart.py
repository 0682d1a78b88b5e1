"""A real server restarted on a smaller cluster file: the pending jobs it no longer fits stay PENDING with Slurm's
reason, as `hal queue`, `hal show` and `hal explain` say, instead of ending FAILED; an update that makes one fit
starts it, its dependents follow, and a restart on a cluster file that fits them again takes them back."""

from __future__ import annotations

from pathlib import Path

from tests.clusters import cluster_toml
from tests.integration.livekit import (
    LiveServer,
    cancel,
    gated,
    restart_on,
    served,
    show,
    submit,
    until_state,
    wait_running,
)

BIG = cluster_toml(name="big", nodes=4, cpus=2, partitions=["batch", "debug"], topology={"switch": 4})
# one node fewer, the debug partition gone, and switches of two nodes
SMALL = cluster_toml(name="small", nodes=3, cpus=2, partitions=["batch"], topology={"switch": 2})


def _reason(live: LiveServer, job: str, reason: str) -> dict[str, object]:
    rec = show(live, job)
    assert rec["state"] == "PENDING" and rec["reason"] == reason, rec
    return rec


def test_jobs_a_smaller_cluster_file_cannot_run_stay_pending(tmp_path: Path) -> None:
    go = tmp_path / "go"  # the wide job runs until the test has seen it run
    with served(tmp_path, BIG) as live:

        def sub(wrap: str = "true", **options: str) -> str:  # the SDK: `hal submit` is not what is tested here
            later = {"begin": "now+1hour"} if "dependency" not in options else {}
            return submit(live, wrap, time="5", **later, **options)

        wide = sub(gated(go), nodes="4")
        topo = sub(nodes="3", topology="required=switch")
        named = sub(nodelist="n003")
        debug = sub(partition="debug")
        after = sub(dependency=f"afterok:{wide}")
        restart_on(live, SMALL)
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
        said = " ".join(refused.stderr.split())  # parked before for the same reason: not the update's fault
        assert refused.returncode != 0 and "is parked and would stay so: needs 4 nodes" in said, said
        live.cli("update", wide, "NumNodes=3", "NumTasks=3", "StartTime=now", check=True)  # fits: it starts
        wait_running(live, wide)
        go.touch()
        assert until_state(live, after, "COMPLETED")["state"] == "COMPLETED"  # its dependent ran after it
        cancel(live, named)
        assert until_state(live, named, "CANCELLED")["cause"].startswith("cancelled by")
        restart_on(live, SMALL)  # still too small: they still wait
        _reason(live, topo, "BadConstraints")
        _reason(live, debug, "PartitionDown")
        restart_on(live, BIG)  # the administrator restored the cluster file: they fit, and wait for their --begin
        for job in (topo, debug):
            assert _reason(live, job, "BeginTime")["cause"] == "fits this cluster again"
        cancel(live, topo, debug)
        assert "Traceback" not in live.log.read_text()
