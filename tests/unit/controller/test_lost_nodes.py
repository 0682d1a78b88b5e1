"""A controller restarted on a cluster file that lost nodes under running jobs (a node removed or renamed, a group
shrunk, a node made smaller than the job's share) starts: as Slurm's controller does when it reads such a
slurm.conf, those jobs end NODE_FAIL with why (or are requeued, with --requeue), their processes are killed, and
the other running jobs are reattached on their nodes, found by name."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from hal.api.server import ServerOptions, build
from hal.controller.auth import Identity
from hal.controller.directives import build_request
from hal.controller.drain import drain
from hal.controller.machine import Machine

ADMIN = Identity("root", admin=True)
SCRIPT = "#!/bin/sh\necho $$ > pid.$SLURM_JOB_ID\nexec sleep 60\n"  # the job's one process writes its pid
WRITER = '#!/bin/sh\necho b > "$HAL_DATA/b"\necho $$ > pid.$SLURM_JOB_ID\nuntil [ -f stop ]; do sleep 0.05; done\n'


def group(names: str, cpus: int = 2, mem: str = "1G", gpus: int = 0) -> str:
    return f'[[nodes]]\nnames = "{names}"\ncpus = {cpus}\nmem = "{mem}"\ngpus = {gpus}\npartitions = ["batch"]\n'


def cluster(*groups: str) -> str:
    return 'name = "c"\n' + "".join(groups) + '[[partitions]]\nname = "batch"\ndefault = true\n'


@contextmanager
def server(tmp: Path, toml: str) -> Iterator[Any]:
    """A server's controller on ``tmp``'s records with the local executor (real processes), recovered as at a
    restart; its loop does not run. Leaving it is a controller that dies: the jobs keep running."""
    path = tmp / "cluster.toml"
    path.write_text(toml)
    ctl, _app, store, executor = build(ServerOptions(home=tmp / "home", executor="local", cluster=path, grace=0.0))
    try:
        yield ctl
    finally:
        executor.shutdown()
        store.close()
        if ctl.staging is not None:  # as a killed server's: the kernel drops its data-plane locks
            ctl.staging.owned.release()


def submit(ctl: Any, tmp: Path, script: str = SCRIPT, **options: str) -> int:
    opts = {k.replace("_", "-"): v for k, v in options.items()}
    return int(ctl.submit(build_request(script, {"time": "5", **opts}, {}, str(tmp), 0), "alice").job_ids[0])


def pid_of(tmp: Path, job: int, not_: int = 0, timeout: float = 10.0) -> int:
    path, deadline = tmp / f"pid.{job}", time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text().strip() if path.exists() else ""
        if text and int(text) != not_:
            return int(text)
        time.sleep(0.02)
    raise AssertionError(f"job {job} never started")


def ended(tmp: Path, job: int, timeout: float = 10.0) -> None:
    """Wait for the job's supervisor to record its end."""
    record, deadline = tmp / "home" / "spool" / "jobs" / str(job) / "record.json", time.monotonic() + timeout
    while not record.exists():
        assert time.monotonic() < deadline, f"job {job} never ended"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_jobs_on_nodes_the_new_cluster_file_lost_end_node_fail_and_the_rest_are_reattached(tmp_path: Path) -> None:
    pids: dict[int, int] = {}
    try:
        with server(tmp_path, cluster(group("n[000-004]"))) as ctl:
            keep = submit(ctl, tmp_path, nodelist="n000", ntasks="2")
            gone = submit(ctl, tmp_path, nodelist="n001", ntasks="2")  # n001 is removed: the later nodes move up
            moved = submit(ctl, tmp_path, nodelist="n002", ntasks="2")
            shrunk = submit(ctl, tmp_path, nodelist="n003", ntasks="2")  # n003 keeps 1 CPU of 2
            again = submit(ctl, tmp_path, requeue="")  # lands on n004, the one node left; it is removed
            ctl.run_cycle()
            pids = {job: pid_of(tmp_path, job) for job in (keep, gone, moved, shrunk, again)}
            assert (ctl.store.get(again) or {})["nodelist"] == "n004"
            drain(ctl, "n004", "to be removed", ADMIN)
        smaller = cluster(group("n[000,002]"), group("n003", cpus=1))
        with server(tmp_path, smaller) as ctl:  # the old code: IndexError in Machine.restore, no server
            rows = {job: dict(ctl.store.get(job) or {}) for job in pids}
            assert rows[gone]["state"] == "NODE_FAIL", rows[gone]
            assert rows[gone]["cause"] == "node n001 is no longer in the cluster file"
            assert rows[shrunk]["state"] == "NODE_FAIL"
            said = "node n003 shrank below what the job holds there (its CPU 1; the node has 1 CPU now)"
            assert rows[shrunk]["cause"] == said
            assert rows[again]["state"] == "PENDING" and rows[again]["restarts"] == 1, rows[again]
            told = [(e["state"], e["cause"]) for e in ctl.store.events_of(again)]
            assert ("NODE_FAIL", "node n004 is no longer in the cluster file") in told, told
            for job in (gone, shrunk, again):
                assert not alive(pids[job]), f"job {job}'s process still runs"
            for job in (keep, moved):
                assert rows[job]["state"] == "RUNNING" and alive(pids[job])
            n002 = ctl.table.names.index("n002")
            assert ctl.sched.running[moved].alloc.nodes.tolist() == [n002]  # by name, not by its old index 2
            assert ctl.machine.used_cpus[n002] == {0, 1} and ctl.machine.used_cpus[2] == set()
            assert "n004" not in ctl.drained  # the drain of a removed node is forgotten
            ctl.run_cycle()  # the requeued job runs again, on the CPU n003's failed job left
            assert (ctl.store.get(again) or {})["nodelist"] == "n003"
            pids[-1] = pid_of(tmp_path, again, not_=pids[again])
            assert alive(pids[-1])
    finally:  # nothing of the test outlives it, whatever failed
        for pid in pids.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def machine(tmp: Path, toml: str) -> Machine:
    path = tmp / "c.toml"
    path.write_text(toml)
    return Machine.load(path)


def test_reclaim_finds_nodes_by_name_and_refuses_what_a_node_no_longer_has(tmp_path: Path) -> None:
    m = machine(tmp_path, cluster(group("n[000,002,004]", cpus=4, mem="2G", gpus=2)))
    free = m.table().free
    two = np.array([[2, 512, 1], [1, 256, 0]])
    kept = m.reclaim("n[002,004]", [(4, [0, 1], [1]), (2, [3], [])], two, free)  # stored in the job's order
    assert not isinstance(kept, str)
    assert kept[0] == [(2, [0, 1], [1]), (1, [3], [])] and kept[1].tolist() == two.tolist()
    assert m.reclaim("n[001-003]", [(1, [0], []), (2, [0], []), (3, [0], [])], two[[0, 1, 1]], free) == (
        "nodes n[001,003] are no longer in the cluster file"
    )
    assert m.reclaim("", [(7, [0], [])], two[:1], free) == "node #7 is no longer in the cluster file"  # no names
    wide = np.array([[1, 100, 0, 5]])  # stored when the cluster had an extra resource: its base columns are kept
    kept = m.reclaim("n000", [(0, [0], [])], wide, free)
    assert not isinstance(kept, str) and kept[1].tolist() == [[1, 100, 0]]
    small = machine(tmp_path, cluster(group("n000", cpus=2, mem="1G", gpus=1)))
    free = small.table().free
    said = small.reclaim("n000", [(0, [0, 2], [])], np.array([[2, 10, 0]]), free)
    assert said == "node n000 shrank below what the job holds there (its CPU 2; the node has 2 CPUs now)"
    said = small.reclaim("n000", [(0, [0], [0, 1])], np.array([[1, 10, 2]]), free)
    assert said == "node n000 shrank below what the job holds there (its GPU 1; the node has 1 GPU now)"
    said = small.reclaim("n000", [(0, [0], [])], np.array([[1, 2048, 0]]), free)
    assert said == "node n000 shrank below what the job holds there (2048 MB of memory; the node has 1024 now)"
    free[0, 1] = 512  # the jobs restored before it hold the rest
    said = small.reclaim("n000", [(0, [1], [])], np.array([[1, 768, 0]]), free)
    assert said == (
        "node n000 shrank below what the job holds there (768 MB of memory; 512 of its 1024 left beside jobs "
        "restored before it)"
    )


def test_a_job_that_ended_while_down_on_a_removed_node_keeps_its_end(tmp_path: Path) -> None:
    with server(tmp_path, cluster(group("n[000-001]"))) as ctl:
        quick = submit(ctl, tmp_path, nodelist="n001")
        ctl.run_cycle()
        pid = pid_of(tmp_path, quick)
        os.kill(pid, signal.SIGTERM)  # it ends while no controller runs
        ended(tmp_path, quick)
    with server(tmp_path, cluster(group("n000"))) as ctl:
        row = ctl.store.get(quick) or {}
        assert row["state"] == "FAILED" and row["signal"] == 15, row  # as it ended, not NODE_FAIL


def test_the_data_plane_starts_without_the_removed_nodes_caches(tmp_path: Path) -> None:
    data = (
        f'[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\ncatalog = "{tmp_path}/catalog.json"\n'
        f'output_uri = "{tmp_path}/out/{{job}}/{{name}}"\n'
    )
    pids: dict[int, int] = {}
    try:
        with server(tmp_path, cluster(group("n[000-002]")) + data) as ctl:
            running = submit(ctl, tmp_path, nodelist="n001", output_data="a")
            done = submit(ctl, tmp_path, WRITER, nodelist="n002", output_data="b")
            ctl.run_cycle()
            pids = {job: pid_of(tmp_path, job) for job in (running, done)}
            (tmp_path / "stop").touch()  # it completes while no controller runs
            ended(tmp_path, done)
        with server(tmp_path, cluster(group("n000")) + data) as ctl:  # n001 and n002, and their caches, are gone
            assert sorted(ctl.staging.stager.caches) == ["n000"]
            row = ctl.store.get(running) or {}
            assert row["state"] == "NODE_FAIL" and row["cause"] == "node n001 is no longer in the cluster file"
            assert not alive(pids[running])
            row = ctl.store.get(done) or {}  # its output is on a node that is gone: it never lands
            assert row["state"] == "FAILED" and row["exit_code"] == 0, row
            assert row["cause"] == "node n002 is no longer in the cluster file: its outputs were never staged out"
    finally:
        for pid in pids.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
