"""Short blocks between full ones: a job is sized by its node count alone for the smallest aggregation of blocks
whose nominal size (base block size x blocks) holds it, and Slurm's topology/block never climbs a level when no
such group holds it (eval_nodes_block: _get_block_level, then ESLURM_TOPO_NO_FIT). QA: blocks of 4, 2, 4, 2 nodes
refused -N 7 and -N 8 ("the largest has 6") and took -N 12, with no word at load; the file now says which node
counts can never run, and the server refuses exactly those."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.clusterfile import load_cluster
from hal.topology_conf import parse_topology_conf

GAPS = "BlockName=b0 Nodes=n[0-3]\nBlockName=b1 Nodes=n[4-5]\nBlockName=b2 Nodes=n[6-9]\nBlockName=b3 Nodes=n[10-11]\n"
NAMES = [f"n{i}" for i in range(12)]


def _warnings(conf: str, names: list[str] = NAMES) -> list[str]:
    said: list[str] = []
    parse_topology_conf(conf, names, said.append)
    return said


def test_the_counts_short_blocks_keep_from_running_are_named_at_load() -> None:
    (said,) = _warnings(GAPS)
    assert "'b1' (2 nodes), 'b3' (2 nodes)" in said and "base block size (4)" in said
    assert "7-8 nodes (one block8: the largest holds 6) can never run" in said


@pytest.mark.parametrize(
    ("conf", "names", "counts"),
    [
        ("BlockName=b0 Nodes=n[0-3]\nBlockName=b1 Nodes=n[4-7]\nBlockName=b2 Nodes=n[8-9]\n", NAMES[:10], None),
        ("BlockName=b0 Nodes=n[0-3]\nBlockName=b1 Nodes=n[4-7]\n", NAMES[:8], None),
        ("BlockSizes=4\nBlockName=b0 Nodes=n[0-2]\nBlockName=b1 Nodes=n[3-5]\n", NAMES[:6], "4 nodes (one block:"),
        ("BlockSizes=4,8\nBlockName=b0 Nodes=n[0-2]\nBlockName=b1 Nodes=n[3-5]\nBlockName=b2 Nodes=n[6-9]\n",
         NAMES[:10], "7-8 nodes (one block8: the largest holds 6)"),
    ],
)  # fmt: skip
def test_a_short_last_block_or_none_says_nothing_a_short_first_one_does(
    conf: str, names: list[str], counts: str | None
) -> None:
    said = _warnings(conf, names)
    assert (said == []) if counts is None else (len(said) == 1 and counts in said[0]), said


def test_the_server_refuses_exactly_the_counts_named(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text(GAPS)
    cluster = tmp_path / "c.toml"
    cluster.write_text('[[nodes]]\nnames = "n[0-11]"\ncpus = 1\n[topology]\nslurm_conf = "topology.conf"\n')
    said: list[str] = []
    load_cluster(cluster, said.append)
    assert len(said) == 1
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    auth = {"Authorization": f"Bearer {(tmp_path / 'home' / 'token').read_text().strip()}"}
    try:
        with TestClient(app) as client:
            taken = []
            for n in range(1, 13):
                body = {"wrap": "true", "options": {"nodes": n, "hold": True}, "workdir": str(tmp_path)}
                resp = client.post("/v1/jobs", json=body, headers=auth)
                assert resp.status_code in (201, 400), resp.text
                taken.append(resp.status_code == 201)
    finally:
        executor.shutdown()
        store.close()
    assert [n for n, ok in enumerate(taken, start=1) if not ok] == [7, 8]
