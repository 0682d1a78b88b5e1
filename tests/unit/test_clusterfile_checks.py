"""Cluster file mistakes name what is wrong, and `hal cluster generate` writes memory it can account for."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.clusterfile import ClusterFileError, cluster_from_dict, load_cluster, uniform_toml


def test_duplicate_node_names_are_named_with_their_groups() -> None:
    """QA: "node names must be unique" without saying which."""
    data = {"nodes": [{"prefix": "n", "count": 4}, {"names": "n[000-001],x1"}]}
    with pytest.raises(ClusterFileError) as info:
        cluster_from_dict(data)
    assert str(info.value) == "node names must be unique: n000, n001 named more than once (in [[nodes]] #1 and #2)"
    many = {"nodes": [{"names": "a[1-7]"}, {"names": "b1"}, {"names": "a[1-7]"}]}
    with pytest.raises(
        ClusterFileError, match=r"a1, a2, a3, a4, a5 and 2 more named more than once \(in \[\[nodes\]\] #1 and #3\)"
    ):
        cluster_from_dict(many)


def test_generate_derives_memory_from_the_cpus_and_refuses_a_bad_amount(tmp_path: Path) -> None:
    """QA: --nodes 25 --cpus 4 wrote mem = "128G" (32G per CPU) though no --mem was given."""
    small = CliRunner().invoke(app, ["cluster", "generate", "--nodes", "25", "--cpus", "4"])
    assert small.exit_code == 0 and tomllib.loads(small.stdout)["nodes"][0]["mem"] == "16G"
    assert tomllib.loads(uniform_toml(2, 32))["nodes"][0]["mem"] == "128G"  # the default machine: as before
    out = tmp_path / "c.toml"
    given = CliRunner().invoke(app, ["cluster", "generate", "--cpus", "8", "--mem", "48G", "-o", str(out)])
    assert given.exit_code == 0 and load_cluster(out).nodes[0].capacity.mem_mb == 48 * 1024
    bad = CliRunner().invoke(app, ["cluster", "generate", "--mem", "lots"])
    assert bad.exit_code == 2 and "--mem: cannot read memory amount 'lots'" in bad.stderr
    assert "4G per cpu" in " ".join(CliRunner().invoke(app, ["cluster", "generate", "--help"]).stdout.split())


@pytest.mark.parametrize(
    ("topology", "said"),
    [
        ({"levels": "ab"}, "levels is a list of names"),  # was two levels, 'a' and 'b'
        ({"fanouts": [2.7]}, "fanouts is a list of whole numbers"),  # was 2
        ({"fanouts": 3}, "fanouts is a list of whole numbers"),  # was "'int' object is not iterable"
        ({"block_size": 2.5}, "block_size is a whole number"),  # was 2
        ({"block_size": True}, "block_size is a whole number"),  # was 9 one-node blocks
        ({"block_size": "x"}, "block_size is a whole number"),  # was int()'s own message
    ],
)
def test_topology_values_of_the_wrong_type_are_refused(topology: dict[str, object], said: str) -> None:
    """QA: wrong types in [topology] were converted silently (or failed with Python's words)."""
    with pytest.raises(ClusterFileError, match=rf"\[topology\]: {said}"):
        cluster_from_dict({"nodes": [{"prefix": "n", "count": 4}], "topology": topology})


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ('cache_dir = "/tmp/x"', "cache_dir = '/tmp/x': needs {node}"),
        ('cache_dir = "/tmp/{node}"\ncache_bytes = "10Q"', "cache_bytes must be a positive size"),
        ('cache_dir = "/tmp/{node}"\nattempts = 0', "attempts must be at least 1"),
        ('cache_dir = "/tmp/{node}"\ndelay_policy = "eager"', 'delay_policy must be "plain" or "gated"'),
        ('cache_dir = "/tmp/{node}"\nbandwidth = ["x"]', "bandwidth is a list of rates per second"),
    ],
)
def test_cluster_show_checks_the_data_table_as_the_server_does(tmp_path: Path, data: str, said: str) -> None:
    """QA: `hal cluster show` passed a [data] table the server then refused at start."""
    path = tmp_path / "c.toml"
    path.write_text(f'[[nodes]]\nprefix = "n"\ncount = 2\n[data]\n{data}\n')
    result = CliRunner().invoke(app, ["cluster", "show", str(path)])
    assert result.exit_code == 2 and said in " ".join(result.stderr.split()), result.stderr
    path.write_text('[[nodes]]\nprefix = "n"\ncount = 2\n[data]\ncache_dir = "/tmp/{node}"\n')
    assert CliRunner().invoke(app, ["cluster", "show", str(path)]).exit_code == 0


def test_a_node_count_that_leaves_the_last_leaf_short_is_told(tmp_path: Path) -> None:
    """QA: levels = ["a"], fanouts = [5] on 16 nodes was taken in silence, its last leaf of 1 node; it is taken
    (as block_size takes a short last block) with a warning, here and by `hal cluster show`."""
    said: list[str] = []
    short = {"nodes": [{"prefix": "n", "count": 16}], "topology": {"levels": ["a"], "fanouts": [5]}}
    topo = cluster_from_dict(short, warn=said.append).topology
    assert topo is not None and topo.paths[-1] == ("a3",) and topo.paths[-2] == ("a2",)
    assert said == [
        "[topology]: 16 nodes are not a multiple of fanouts' last (5 nodes per a): the last a, a3, holds 1 of 5; "
        "it is kept as a short leaf, where a job kept to one leaf fits only up to 1 node(s)"
    ]
    full = {"nodes": [{"prefix": "n", "count": 32}], "topology": {"levels": ["spine", "switch"], "fanouts": [2, 8]}}
    said.clear()
    cluster_from_dict(full, warn=said.append)
    assert said == []
    path = tmp_path / "c.toml"
    path.write_text('[[nodes]]\nprefix = "n"\ncount = 16\n[topology]\nlevels = ["switch"]\nfanouts = [5]\n')
    shown = CliRunner().invoke(app, ["cluster", "show", str(path)])
    assert shown.exit_code == 0 and "the last switch, switch3, holds 1 of 5" in " ".join(shown.stderr.split())
