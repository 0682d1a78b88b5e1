"""Cluster description files: node groups, partitions, topology, memory strings, and clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hal.clusterfile import ClusterFileError, cluster_from_dict, load_cluster, parse_mem_mb, uniform_toml
from hal.model.resources import Resources

GOOD = """
name = "mini"

[[nodes]]
prefix = "cpu"
count = 3
cpus = 16
mem = "64G"
features = ["avx512"]
partitions = ["batch"]

[[nodes]]
name = "gpu"
count = 2
cpus = 32
mem = "256G"
gpus = 4
extras = { nvlink = 1 }
partitions = ["batch", "gpu"]

[[partitions]]
name = "batch"
default = true

[[partitions]]
name = "gpu"
max_time = 86400
priority_tier = 2

[topology]
levels = ["rack", "switch"]
fanouts = [2, 2]
"""


def test_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(GOOD)
    c = load_cluster(path)
    assert c.name == "mini"
    assert [n.name for n in c.nodes] == ["cpu000", "cpu001", "cpu002", "gpu000", "gpu001"]
    assert c.nodes[0].capacity == Resources(16, 65536, 0) and c.nodes[0].features == ("avx512",)
    assert c.nodes[3].capacity == Resources(32, 262144, 4, {"nvlink": 1})
    assert c.partition("batch").nodes == tuple(n.name for n in c.nodes) and c.partition("batch").default
    gpu = c.partition("gpu")
    assert gpu.nodes == ("gpu000", "gpu001") and gpu.max_time == 86400.0 and gpu.priority_tier == 2
    assert c.topology is not None and c.topology.levels == ("rack", "switch")
    assert c.topology.distance(0, 1) == 1 and c.topology.distance(0, 4) == 3


@pytest.mark.parametrize(
    ("text", "mb"),
    [(4096, 4096), ("4096", 4096), ("4G", 4096), ("4g", 4096), ("512M", 512), ("512MB", 512), ("1T", 1048576),
     ("2048K", 2), ("1.5G", 1536), (" 8 GB ", 8192)],
)  # fmt: skip
def test_memory_strings(text: int | str, mb: int) -> None:
    assert parse_mem_mb(text) == mb


@pytest.mark.parametrize("text", ["lots", "4 G B", "-4G", "4X", "", "G"])
def test_bad_memory_strings(text: str) -> None:
    with pytest.raises(ClusterFileError, match="cannot read memory amount"):
        parse_mem_mb(text)


def test_bad_memory_in_a_file_names_the_group(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[nodes]]\nprefix = "n"\ncpus = 4\nmem = "lots"\n')
    with pytest.raises(ClusterFileError, match=r"\[\[nodes\]\] #1: cannot read memory amount 'lots'"):
        load_cluster(path)


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError, match="cluster file not found"):
        load_cluster(tmp_path / "nope.toml")
    path = tmp_path / "broken.toml"
    path.write_text("[[nodes]\ncpus = ")
    with pytest.raises(ClusterFileError, match="not valid TOML"):
        load_cluster(path)
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ClusterFileError, match="not valid TOML"):
        load_cluster(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "at least one"),
        ({"nodes": [{"cpus": 4}]}, "name the nodes: prefix"),
        ({"nodes": [{"prefix": "n", "count": 0}]}, "count must be >= 1"),
        ({"nodes": [{"prefix": "n", "gpu_type": "a100"}]}, 'gpu_type = "a100" on nodes without gpus'),
        ({"nodes": [{"prefix": "n", "gpus": 8, "gpu_type": "a 100"}]}, "a name such as a100"),
        ({"nodes": [{"prefix": "n", "cpus": -2}]}, "cpus must be >= 0"),
        ({"nodes": [{"prefix": "n", "cpus": "many"}]}, "many"),
        ({"nodes": [{"prefix": "n", "count": 4}], "topology": {"levels": ["a"], "fanouts": [2, 2]}}, "one fanout"),
        ({"nodes": [{"prefix": "n"}, {"prefix": "n"}]}, "unique"),
        # misspelt keys were silently ignored: `fanout` made the machine one flat switch
        (
            {"nodes": [{"prefix": "n", "count": 8}], "topology": {"levels": ["sw"], "fanout": [4]}},
            r"unknown key.*fanout",
        ),
        ({"nodes": [{"prefix": "n", "cpu": 4}]}, r"\[\[nodes\]\] #1: unknown key.*cpu"),
        ({"nodes": [{"prefix": "n"}], "partitions": [{"name": "b", "maxtime": 60}]}, "unknown key.*maxtime"),
        ({"nodes": [{"prefix": "n"}], "topolgy": {}}, "unknown key.*topolgy"),
        ({"nodes": [{"prefix": "n", "count": 4}], "topology": {"block_size": 2, "levels": ["a"]}}, "give one of"),
        ({"nodes": [{"prefix": "n", "count": 4}], "topology": {"levels": ["a", "a"], "fanouts": [2, 2]}}, "distinct"),
        ({"nodes": [{"prefix": "n", "count": 4}], "topology": {"levels": ["node"], "fanouts": [4]}}, "distinct"),
        # accepted before, and the machine could not work as written (QA)
        ({"nodes": [{"prefix": "n", "partitions": ["nope"]}], "partitions": [{"name": "b"}]}, "'nope' is not defined"),
        ({"nodes": [{"prefix": "n", "cpus": 0}]}, "cpus must be >= 1"),
        ({"nodes": [{"prefix": "n"}], "partitions": [{"name": "b"}, {"name": "b"}]}, "'b' is defined twice"),
        (
            {
                "nodes": [{"prefix": "n"}],
                "partitions": [{"name": "a", "default": True}, {"name": "b", "default": True}],
            },
            "only one may be the default",
        ),
        ({"nodes": [{"prefix": "n"}], "partitions": [{"name": "b", "max_time": -5}]}, "max_time = -5"),
        ({"nodes": [{"prefix": "n", "count": 100_000_000}]}, "at most 100,000 nodes"),
        ({"nodes": [{"prefix": "n", "cpus": 10**12}]}, "at most 100,000 per node"),  # the server ran out of memory
        ({"nodes": [{"prefix": "n", "cpus": 1.5}]}, r"cpus = 1.5: a whole number"),
        ({"nodes": [{"prefix": "n", "cpus": True}]}, r"cpus = True: a whole number"),
        ({"nodes": [{"prefix": "n"}], "partitions": [{"name": "b", "max_time": float("nan")}]}, "max_time = nan"),
        (
            {"nodes": [{"prefix": "n", "partitions": ["a"]}], "partitions": [{"name": "a"}, {"name": "e"}]},
            "'e' has no nodes",
        ),
    ],
)
def test_bad_descriptions(data: dict[str, object], message: str) -> None:
    with pytest.raises(ClusterFileError, match=message):
        cluster_from_dict(data)


def test_without_partitions_every_node_is_in_batch() -> None:
    c = cluster_from_dict({"nodes": [{"prefix": "n", "count": 2, "cpus": 4}]})
    assert c.default_partition() is not None and c.partition("batch").nodes == ("n000", "n001")


def test_uniform_toml_loads(tmp_path: Path) -> None:
    path = tmp_path / "u.toml"
    path.write_text(uniform_toml(4, 8, mem="16G", gpus=1, name="u"))
    c = load_cluster(path)
    assert c.name == "u" and c.total() == Resources(32, 65536, 4)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nodes": [1, 2]}, r"\[\[nodes\]\] #1: not a table"),
        ({"nodes": [{"prefix": "n", "features": 5}]}, r"\[\[nodes\]\] #1"),
        ({"nodes": [{"prefix": "n"}], "partitions": [{"default": True}]}, r"\[\[partitions\]\] #1: .*name"),
        ({"nodes": [{"prefix": "n"}], "partitions": "batch"}, "partitions"),
        ({"nodes": [{"prefix": "n"}], "partitions": [{"name": "b", "max_time": "long"}]}, r"\[\[partitions\]\] #1"),
        ({"nodes": [{"prefix": "n"}], "topology": "flat"}, r"\[topology\]"),
        ({"nodes": [{"prefix": "n"}], "topology": {"fanouts": ["x"]}}, r"\[topology\]"),
    ],
)
def test_malformed_tables_are_clear_errors_not_crashes(data: dict[str, object], message: str) -> None:
    """Bug: these raised KeyError, TypeError or AttributeError, which `hal simulate --cluster` showed as a
    traceback instead of a message."""
    with pytest.raises(ClusterFileError, match=message):
        cluster_from_dict(data)


def test_a_directory_is_not_a_cluster_file(tmp_path: Path) -> None:
    """Bug: IsADirectoryError escaped load_cluster."""
    with pytest.raises(ClusterFileError, match="cannot read"):
        load_cluster(tmp_path)


def test_cluster_show_prints_the_tree(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hal.cli.main import app

    path = tmp_path / "t.toml"
    path.write_text('[[nodes]]\nprefix = "n"\ncount = 8\n[topology]\nlevels = ["rack", "switch"]\nfanouts = [2, 2]\n')
    res = CliRunner().invoke(app, ["cluster", "show", str(path), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["topology"] == {"rack": 2, "switch": 4}


def test_nodes_named_as_a_site_names_them_import_its_topology_conf(tmp_path: Path) -> None:
    """Names were always PREFIX000..: a real topology.conf (gpu[001-036]) could never match them."""
    (tmp_path / "topology.conf").write_text("SwitchName=s1 Nodes=gpu[001-002]\nSwitchName=s2 Nodes=gpu[003-004]\n")
    data = {"nodes": [{"names": "gpu[001-004]", "cpus": 8, "gpus": 8}], "topology": {"slurm_conf": "topology.conf"}}
    cluster = cluster_from_dict(data, tmp_path)
    assert [n.name for n in cluster.nodes] == ["gpu001", "gpu002", "gpu003", "gpu004"]
    assert cluster.topology is not None and cluster.topology.paths[2] == ("s2",)
    for bad, message in [
        ({"nodes": [{"names": "gpu[001-004]", "count": 3}]}, "count = 3 but names lists 4 nodes"),
        ({"nodes": [{"names": "gpu[001-002]", "prefix": "g"}]}, "drop prefix/name"),
        ({"nodes": [{"prefix": "a", "count": 2}, {"names": "a001"}]}, "unique"),
        ({"nodes": [{"cpus": 2}]}, "name the nodes"),
    ]:
        with pytest.raises(ClusterFileError, match=re.escape(message)):
            cluster_from_dict(bad)


def test_the_tests_cluster_files_are_what_their_arguments_say(tmp_path: Path) -> None:
    """tests.clusters.cluster_toml writes the files the live and controller tests start on."""
    from tests.clusters import cluster_toml

    path = tmp_path / "t.toml"
    path.write_text(
        cluster_toml(name="t", nodes=8, cpus=2, mem="1G", features=["fast"], partitions=["batch", "debug"],
                     topology={"rack": 2, "switch": 2})
    )  # fmt: skip
    c = load_cluster(path)
    assert c.name == "t" and [n.name for n in c.nodes] == [f"n{i:03}" for i in range(8)]
    assert c.nodes[0].capacity == Resources(2, 1024, 0) and c.nodes[0].features == ("fast",)
    assert c.partition("batch").default and not c.partition("debug").default
    assert c.partition("debug").nodes == tuple(n.name for n in c.nodes)
    assert c.topology is not None and c.topology.levels == ("rack", "switch")
    assert [c.topology.distance(0, k) for k in range(8)] == [0, 1, 2, 2, 3, 3, 3, 3]  # racks of 2 switches of 2
    path.write_text(cluster_toml(name="u", nodes=2, cpus=4, prefix="vn"))
    c = load_cluster(path)
    assert [n.name for n in c.nodes] == ["vn000", "vn001"] and c.partition("batch").default  # no partitions: batch
