"""`hal history --swf`: the site's own accounting records as a trace, replayed by `hal simulate --cluster` with
each job back in its partition (its nodes and its time limit), through a real server and the real CLI."""

from __future__ import annotations

import csv
import itertools
import time
from pathlib import Path

from hal.client import Client
from hal.sim.swf import read_swf
from tests.integration.livekit import LiveServer

SPLIT = """
name = "split"

[[nodes]]
prefix = "a"
count = 3
cpus = 2
mem = "2G"
partitions = ["batch"]

[[nodes]]
prefix = "d"
count = 1
cpus = 2
mem = "2G"
partitions = ["batch", "debug"]

[[partitions]]
name = "batch"
default = true

[[partitions]]
name = "debug"
max_time = {debug_max}
"""


def test_history_exports_a_trace_that_simulate_replays_in_its_partitions(
    sdk: Client, server: LiveServer, tmp_path: Path
) -> None:
    debug = [
        sdk.submit(wrap="sleep 1", options={"partition": "debug", "ntasks": "2", "time": "5:00"})["job_id"]
        for _ in range(3)
    ]
    batch = [sdk.submit(wrap="sleep 1")["job_id"] for _ in range(2)]
    failed = sdk.submit(wrap="exit 3")["job_id"]
    never = sdk.submit(wrap="true", options={"begin": "now+3600"})["job_id"]
    sdk.cancel(never)
    for job in [*debug, *batch, failed]:
        sdk.wait(job, timeout=60)

    trace_file = tmp_path / "site.swf"
    res = server.cli("history", "-a", "--swf", str(trace_file), check=True)
    assert "wrote 7 ended job(s)" in " ".join(res.stderr.split())
    trace = read_swf(trace_file)
    assert not trace.problems and trace.header["HalPartitions"] == "1=batch 2=debug"
    recs = {r.job_id: r for r in trace.records}
    assert [recs[j].partition for j in debug] == [2, 2, 2] and recs[batch[0]].partition == 1
    assert recs[failed].status == 0 and recs[debug[0]].status == 1 and recs[debug[0]].req_time == 300
    assert recs[never].status == 5 and recs[never].run == -1  # cancelled before it started: never ran
    assert recs[debug[0]].procs == 2 and recs[debug[0]].run >= 1

    cluster = tmp_path / "split.toml"
    cluster.write_text(SPLIT.format(debug_max=600))
    out = tmp_path / "jobs.csv"
    res = server.cli("simulate", str(trace_file), "--cluster", str(cluster), "--csv-out", str(out), check=True)
    rows = {int(r["job_id"]): r for r in csv.DictReader(out.open())}
    assert set(rows) == {*debug, *batch, failed}  # the cancelled one is skipped: it never ran
    spans = sorted((float(rows[j]["start"]), float(rows[j]["end"])) for j in debug)
    # debug has one 2-CPU node here, so its three 2-CPU jobs run one after another (on 4 nodes they would not)
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))

    cluster.write_text(SPLIT.format(debug_max=60))
    res = server.cli("simulate", str(trace_file), "--cluster", str(cluster), "--csv-out", str(out), check=True)
    said = " ".join(res.stderr.split())
    assert said.count("PartitionTimeLimit") == 3 and "'debug' allows 60 s" in said
    assert {int(r["job_id"]) for r in csv.DictReader(out.open())} == {*batch, failed}

    res = server.cli("history", "--swf", str(tmp_path / "no-such-dir" / "x.swf"))
    assert res.returncode != 0 and "does not exist" in " ".join(res.stderr.split())
    if Path("/dev/full").exists():  # a write that fails: one line (it was a traceback)
        full = server.cli("history", "-a", "--swf", "/dev/full")
        assert full.returncode != 0 and "cannot write /dev/full" in full.stderr and "Traceback" not in full.stderr


def test_the_export_keeps_dependencies_limits_and_begin_times_for_the_replay(
    sdk: Client, server: LiveServer, tmp_path: Path
) -> None:
    """A replay of an exported trace keeps what held jobs back live: an afterok chain, an array's %limit (as
    lanes) and a --begin time (the job is submitted then); without them they all ran at once."""
    first = sdk.submit(wrap="sleep 1", options={"ntasks": "1"})["job_id"]
    second = sdk.submit(wrap="sleep 1", options={"dependency": f"afterok:{first}"})["job_id"]
    arr = sdk.submit(wrap="sleep 1", options={"array": "0-3%2"})
    late = sdk.submit(wrap="true", options={"begin": "now+2"})["job_id"]
    held = sdk.submit(wrap="true", options={"hold": True})["job_id"]
    time.sleep(2)
    sdk.release(held)
    for job in (second, arr["job_id"], late, held):
        sdk.wait(job, timeout=60)
    trace_file = tmp_path / "deps.swf"
    server.cli("history", "-a", "--swf", str(trace_file), check=True)
    recs = {r.job_id: r for r in read_swf(trace_file).records}
    tasks = arr["job_ids"]
    assert recs[second].preceding == first
    assert [recs[t].preceding for t in tasks] == [-1, -1, tasks[0], tasks[1]]  # lanes of the %2 limit
    late_rec = next(r for j, r in recs.items() if j == late)
    assert late_rec.submit >= recs[first].submit + 1  # submitted at its begin time
    assert recs[held].submit >= recs[first].submit + 2 and recs[held].wait < 2  # at its release: held is not wait
    assert sdk.get(held)["released"] is not None
    out = tmp_path / "jobs.csv"
    server.cli("simulate", str(trace_file), "--procs", "64", "--csv-out", str(out), check=True)
    rows = {int(r["job_id"]): r for r in csv.DictReader(out.open())}
    assert float(rows[second]["start"]) >= float(rows[first]["end"])
    assert float(rows[tasks[2]]["start"]) >= float(rows[tasks[0]]["end"])
    assert float(rows[tasks[3]]["start"]) >= float(rows[tasks[1]]["end"])
