"""QA M2, L2, L3: what a live controller says of --switches and --segment at submission and while the job waits.
M2: topology/block ignores --switches (Slurm's eval_nodes_block never reads it), and the "never fits under N
switches" note counts the job's partition. L2: a segment larger than the job is ignored, as Slurm does. L3: a job
that can never fit under its N switches is told so, not that the current load spans them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hal.controller.directives import build_request
from hal.engine.plugins.placement_explain import topology_hold
from tests.unit.controller.test_parked import controller as server_controller

PAIRS = (
    "".join(f"SwitchName=s{i} Nodes=g[{2 * i + 1}-{2 * i + 2}]\n" for i in range(4))
    + "SwitchName=top Switches=s[0-3]\n"
)


ALL = '[[nodes]]\nnames = "g[1-8]"\ncpus = 4\nmem = "4G"\npartitions = ["batch"]\n'
ODD = (
    '[[nodes]]\nnames = "g[1,3,5,7]"\ncpus = 4\nmem = "4G"\npartitions = ["batch", "odd"]\n'
    '[[nodes]]\nnames = "g[2,4,6,8]"\ncpus = 4\nmem = "4G"\npartitions = ["batch"]\n[[partitions]]\nname = "odd"\n'
)


@contextmanager
def controller(tmp: Path, topology: str, conf: str = "", nodes: str = ALL) -> Iterator[Any]:
    """A dev-executor controller on g[1-8] (4 CPUs each), ``topology`` its [topology] table's body."""
    if conf:
        (tmp / "topology.conf").write_text(conf)
    batch = '[[partitions]]\nname = "batch"\ndefault = true\n'
    with server_controller(tmp, f'name = "q"\n{nodes}{batch}[topology]\n{topology}\n') as ctl:
        yield ctl


def _submit(ctl: Any, tmp: Path, **options: str) -> tuple[int, list[str]]:
    req = build_request("#!/bin/sh\nsleep 60\n", {k: v for k, v in options.items()}, {}, str(tmp), 0)
    return int(ctl.submit(req, "root").job_ids[0]), list(req.notes)


def test_switches_on_blocks_are_ignored_with_a_note_and_the_job_starts(tmp_path: Path) -> None:
    with controller(tmp_path, "block_size = 2") as ctl:
        job, notes = _submit(ctl, tmp_path, nodes="3", switches="1", time="1:00")
        assert any("--switches=1 accepted but ignored" in n and "topology/block" in n for n in notes), notes
        ctl.run_cycle()
        assert ctl.store.get(job)["state"] == "RUNNING"  # it waited its 300 s maxwait as (Topology)


def test_the_never_fits_note_counts_the_jobs_partition(tmp_path: Path) -> None:
    """Partition odd has one node under each 2-node switch: -N 2 --switches=1 never fits there."""
    with controller(tmp_path, 'slurm_conf = "topology.conf"', PAIRS, ODD) as ctl:
        _, odd = _submit(ctl, tmp_path, nodes="2", switches="1", partition="odd", time="1:00")
        _, batch = _submit(ctl, tmp_path, nodes="2", switches="1", time="1:00")
    assert any("2 nodes never fit under 1 leaf switch" in n and "hold 1" in n for n in odd), odd
    assert not [n for n in batch if "--switches" in n]


def test_a_segment_larger_than_the_job_is_ignored_with_a_note(tmp_path: Path) -> None:
    with controller(tmp_path, "block_size = 4") as ctl:
        job, notes = _submit(ctl, tmp_path, nodes="2", segment="4", time="1:00")
        assert any("--segment=4 ignored" in n and "larger than the job's 2 nodes" in n for n in notes), notes
        assert ctl.live[job].spec.segment is None
        ctl.run_cycle()
        assert ctl.store.get(job)["state"] == "RUNNING"


def test_why_of_a_switch_count_that_never_fits_names_the_topology(tmp_path: Path) -> None:
    with controller(tmp_path, 'slurm_conf = "topology.conf"', PAIRS) as ctl:
        job, _ = _submit(ctl, tmp_path, nodes="4", switches="1@10:00", time="1:00")
        ctl.run_cycle()
        why = topology_hold(ctl.sched, job)
    assert why is not None and "never fit under 1 switch" in why and "now span" not in why, why
