"""QA: a cluster file's `block_size = N` was one level of blocks, so a job of two blocks took any two (n[2-5] on
blocks of 2), where the same blocks as BlockName= lines take an aligned pair of Slurm's default aggregations
(n[0-3] or n[4-7]); on SDSC-BLUE 148 of 175 two-block jobs ran on unaligned pairs. `block_size = N` now means
exactly the BlockName= list of consecutive N-node blocks without BlockSizes=: same topology, same schedules."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.clusterfile import cluster_from_dict
from hal.model.topology import Topology
from hal.topology_conf import parse_topology_conf

QA_JOBS = [(1, 0, 100, 2, 200), (2, 0, 10, 2, 20), (3, 0, 10, 2, 20), (4, 0, 100, 2, 200), (5, 5, 50, 4, 100)]


def _conf(n_nodes: int, size: int) -> str:
    return "".join(
        f"BlockName=b{k} Nodes=n[{start}-{min(start + size, n_nodes) - 1}]\n"
        for k, start in enumerate(range(0, n_nodes, size))
    )


def _shape(topo: Topology) -> tuple[object, ...]:
    """The topology with its domains numbered in order of first appearance (the names differ between forms)."""
    numbered = []
    for depth in range(len(topo.levels)):
        seen: dict[str, int] = {}
        numbered.append(tuple(seen.setdefault(p[depth], len(seen)) for p in topo.paths))
    return topo.levels, topo.block_nodes, topo.connected, topo.outside, tuple(numbered)


def _forms(tmp_path: Path, n_nodes: int, size: int) -> tuple[Path, Path]:
    nodes = f'[[nodes]]\nnames = "n[0-{n_nodes - 1}]"\ncpus = 1\n'
    (tmp_path / "a.toml").write_text(f"{nodes}[topology]\nblock_size = {size}\n")
    (tmp_path / "b.toml").write_text(f'{nodes}[topology]\nslurm_conf = "topology.conf"\n')
    (tmp_path / "topology.conf").write_text(_conf(n_nodes, size))
    return tmp_path / "a.toml", tmp_path / "b.toml"


def _schedule(tmp_path: Path, trace: Path, cluster: Path) -> str:
    out = tmp_path / f"{cluster.stem}.csv"
    done = CliRunner().invoke(
        app, ["simulate", str(trace), "--cluster", str(cluster), "--whole-nodes", "--csv-out", str(out)]
    )
    assert done.exit_code == 0, done.output
    return out.read_text()


def _swf(path: Path, jobs: list[tuple[int, int, int, int, int]], procs: int) -> Path:
    lines = [f"; MaxProcs: {procs}"] + [
        f"{j} {submit} -1 {run} {n} -1 -1 {n} {est} -1 1 1 1 -1 -1 -1 -1 -1" for j, submit, run, n, est in jobs
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("n_nodes", "size"), [(8, 2), (36, 18), (24, 3), (20, 4), (80, 2), (6, 6)])
def test_block_size_is_the_blockname_list_with_slurms_default_sizes(n_nodes: int, size: int) -> None:
    names = [f"n{i}" for i in range(n_nodes)]
    spec = {"nodes": [{"names": f"n[0-{n_nodes - 1}]", "cpus": 1}], "topology": {"block_size": size}}
    topo = cluster_from_dict(spec).topology
    assert topo is not None
    assert _shape(topo) == _shape(parse_topology_conf(_conf(n_nodes, size), names))


def test_a_short_last_block_is_still_accepted() -> None:
    """A short last block is a base block with gaps (as Slurm 25.05 and the BlockName= form take it), nominally of
    N nodes as the rest."""
    spec = {"nodes": [{"names": "n[0-9]", "cpus": 1}], "topology": {"block_size": 4}}
    topo = cluster_from_dict(spec).topology
    assert topo is not None and topo.levels == ("block16", "block8", "block")
    assert topo.paths[9] == ("bs16-0", "bs8-1", "block2") and topo.block_nodes == (16, 8, 4)


def test_the_qa_case_takes_an_aligned_pair_of_blocks_in_both_forms(tmp_path: Path) -> None:
    a, b = _forms(tmp_path, 8, 2)
    trace = _swf(tmp_path / "t.swf", QA_JOBS, 8)
    first, second = _schedule(tmp_path, trace, a), _schedule(tmp_path, trace, b)
    assert first == second
    job5 = first.splitlines()[-1].split(",")
    assert (job5[0], job5[2], job5[11]) == ("5", "100", "n[0-3]")  # was 10 on n[2-5], blocks 1 and 2


@pytest.mark.parametrize(("n_nodes", "size", "seed"), [(24, 3, 1), (20, 4, 2), (16, 2, 3)])
def test_a_random_workload_schedules_byte_identically(tmp_path: Path, n_nodes: int, size: int, seed: int) -> None:
    rng = random.Random(seed)
    jobs, submit = [], 0
    for job_id in range(1, 61):
        submit += rng.randrange(0, 30)
        run, nodes = rng.randrange(5, 400), rng.choice([1, 1, 2, size, size + 1, 2 * size, 3 * size, 4 * size])
        jobs.append((job_id, submit, run, min(nodes, n_nodes), run + rng.randrange(0, 400)))
    a, b = _forms(tmp_path, n_nodes, size)
    trace = _swf(tmp_path / "t.swf", jobs, n_nodes)
    assert _schedule(tmp_path, trace, a) == _schedule(tmp_path, trace, b)
