"""A real `hal server` on a cluster file with a switch tree: topology requests are honoured with the plain
profile (no reservation, no data plane), and impossible or malformed ones are refused at submission with
the reason, not accepted and ignored or answered with a server error."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.clusters import cluster_toml
from tests.integration.livekit import LiveServer, cancel, served, show, submit, until_state

# 8 nodes of 2 CPUs: two racks of two switches of two nodes.
TREE = cluster_toml(name="c8", nodes=8, cpus=2, topology={"rack": 2, "switch": 2})


def _nodes(live: LiveServer, job: str) -> str:
    """The nodes the job runs on once it runs (its record as `hal show --json` has it, polled in-process)."""
    return str(until_state(live, job, "RUNNING")["nodelist"])


def test_switch_and_segment_requests_on_a_tree_without_a_profile(tmp_path: Path) -> None:
    with served(tmp_path, TREE, file="c.toml") as live:
        live.cli("submit", "--parsable", "--wrap", "sleep 60", "-n", "2", "-t", "2:00", check=True)  # takes n000
        _nodes(live, "1")
        packed = live.cli(
            "submit", "--parsable", "--wrap", "sleep 60", "-N", "2", "--ntasks-per-node=2", "--switches=1",
            "-t", "2:00", check=True,
        ).stdout.strip()  # fmt: skip
        # First fit would take n[001-002], across two switches; one switch has two free nodes.
        assert _nodes(live, packed) == "n[002-003]"
        shown = live.cli("show", packed, check=True).stdout
        assert "Switches=1 (waits at most 00:05:00)" in " ".join(shown.split())  # max_switch_wait's 300 s default
        capped = live.cli("submit", "--parsable", "--hold", "--wrap", "true", "-N", "2", "--switches=1@7-0",
                          "-t", "1:00", check=True).stdout.strip()  # fmt: skip
        said = " ".join(live.cli("show", capped, check=True).stdout.split())
        assert "(waits at most 00:05:00)" in said  # asked for a week: capped, as Slurm caps it
        listed = live.cli("queue", "-j", capped, "-O", "JobID:6,ReqSwitch:.11,Wait4Switch:.12", check=True).stdout
        assert listed.splitlines() == ["JOBID  REQ_SWITCH WAIT4SWITCH", f"{capped:<6}          1    00:05:00"]
        live.cli("cancel", capped, check=True)
        for args, reason in [
            (["-N", "3", "--topology", "required=switch"], "within one switch"),
            (["-N", "2", "--topology", "preferred=swtich"], "unknown topology level 'swtich'"),
            (["-N", "3", "--segment=2"], "a multiple of 2"),
            (["-n", "4", "--segment=2"], "needs -N/--nodes"),
            (["-N", "2", "--switches=1@soon"], "--switches=1@soon"),
            (["--output-data=../escape"], "dataset name"),
            (["--input-data=reads"], "need a data plane"),
        ]:
            done = live.cli("submit", "--wrap", "true", "-t", "1:00", *args)
            assert done.returncode != 0 and reason in done.stderr, (args, done.stderr)
            assert "Internal Server Error" not in done.stderr
        assert "Internal Server Error" not in live.log.read_text()
        wrapped = json.loads(live.cli("show", "1", "--json", check=True).stdout)
        assert wrapped["name"] == "wrap"  # sbatch's name for a --wrap job
        live.cli("cancel", "1", packed, check=True)
        # `hal explain` shows the placement score's parts without a data plane, and after the job ended
        until_state(live, packed, "CANCELLED")
        said = " ".join(live.cli("explain", packed, check=True).stdout.split())
        assert "placement score parts" in said and "switch" in said and "did not record" not in said


def test_explain_shows_the_placements_a_waiting_topology_job_could_take_now(tmp_path: Path) -> None:
    """QA: for a pending job `hal explain` said only that parts are recorded when it starts. A job held by
    --switches=1 while one node is free in each of two switches is shown the placements free right now."""
    with served(tmp_path, TREE, file="c.toml") as live:
        busy = [  # through the SDK: `hal submit` is not what is tested here
            submit(live, "sleep 120", nodelist=node, nodes="1", exclusive=True, time="5")
            for node in ("n000", "n002", "n004", "n005", "n006", "n007")
        ]
        for job in busy:
            _nodes(live, job)
        held = submit(live, nodes="2", exclusive=True, switches="1@10:00", time="1:00")
        deadline = time.monotonic() + 30  # until a cycle has held it for its switch (it said Topology after 1 s)
        while (rec := show(live, held))["reason"] != "Topology":
            assert time.monotonic() < deadline and rec["state"] == "PENDING", rec
            time.sleep(0.05)
        said = " ".join(live.cli("explain", held, check=True).stdout.split())
        assert "reason=Topology" in said and "placements free right now" in said and "candidate 1" in said, said
        assert "rack" in said and "candidate 1: n[001,003]" in said, said  # two switches of one rack, named
        shown = " ".join(live.cli("show", held, check=True).stdout.split())  # explain's words, not every option
        assert "Why=free nodes exist, but not within its --switches=1" in shown, shown
        cancel(live, held, *busy)
