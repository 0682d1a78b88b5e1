"""QA: values of the wrong TOML type in a cluster file were coerced silently (count = true was one node, features =
"ib" the features i and b), a prefix could make host lists ambiguous, errors did not name the file, and a UTF-8
byte-order mark was "Invalid statement"."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.clusterfile import ClusterFileError, load_cluster
from hal.executors.hostlist import compress, expand

PARTITION = '[[partitions]]\nname = "batch"\ndefault = true\n'


def _load(tmp_path: Path, group: str, partition: str = PARTITION) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(f'[[nodes]]\n{group}\ncpus = 4\npartitions = ["batch"]\n{partition}')
    return path


@pytest.mark.parametrize(
    ("group", "said"),
    [
        ('prefix = "n"\ncount = true', "[[nodes]] #1: count = True: a whole number"),
        ('prefix = "n"\ncount = 2.7', "[[nodes]] #1: count = 2.7: a whole number"),
        ('names = "n[1-2]"\ncount = true', "[[nodes]] #1: count = True: a whole number"),
        ('prefix = "n"\nmem = true', "[[nodes]] #1: mem = True: a whole number of MB or a text"),
        ('prefix = "n"\nmem = 1.5', "[[nodes]] #1: mem = 1.5: a whole number of MB"),
        ('prefix = "n"\nfeatures = "ib"', "[[nodes]] #1: features = 'ib': a list of feature names"),
        ('prefix = "n"\nextras = { fpga = true }', "[[nodes]] #1: extras fpga = True: a whole number"),
        ('prefix = "n"\nextras = { fpga = "2" }', "[[nodes]] #1: extras fpga = '2': a whole number"),
    ],
)
def test_a_node_value_of_the_wrong_type_is_refused_naming_file_and_key(tmp_path: Path, group: str, said: str) -> None:
    path = _load(tmp_path, group)
    with pytest.raises(ClusterFileError) as err:
        load_cluster(path)
    assert str(err.value).startswith(f"{path}: {said}"), str(err.value)


def test_partitions_as_one_text_is_refused_not_read_letter_by_letter(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('[[nodes]]\nprefix = "n"\npartitions = "batch"\n')  # was partitions b, a, t, c, h
    with pytest.raises(ClusterFileError, match=r"partitions = 'batch': a list of partition names"):
        load_cluster(path)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("max_time = true", "max_time = True: a number of seconds"),
        ('max_time = "3600"', "max_time = '3600': a number of seconds"),
        ('default = "no"', "default = 'no': true or false"),
        ("priority_tier = 2.9", "priority_tier = 2.9: a whole number"),
        ("priority_tier = true", "priority_tier = True: a whole number"),
    ],
)
def test_a_partition_value_of_the_wrong_type_is_refused(tmp_path: Path, line: str, said: str) -> None:
    path = _load(tmp_path, 'prefix = "n"', f'[[partitions]]\nname = "batch"\n{line}\n')
    with pytest.raises(ClusterFileError) as err:
        load_cluster(path)
    assert str(err.value).startswith(f"{path}: [[partitions]] #1: {said}"), str(err.value)


@pytest.mark.parametrize("prefix", ["rack1,gpu", "a/b", "my node ", "n[1-2]", "n]", "gpu\t", "n*"])
def test_a_prefix_that_would_make_host_lists_ambiguous_is_refused(tmp_path: Path, prefix: str) -> None:
    path = _load(tmp_path, f'prefix = "{prefix}"\ncount = 2'.replace("\t", "\\t"))
    with pytest.raises(ClusterFileError) as err:
        load_cluster(path)
    assert str(err.value).startswith(f"{path}: [[nodes]] #1: prefix = {prefix!r}: a text of letters"), str(err.value)


def test_a_prefix_that_is_not_a_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError, match=r"\[\[nodes\]\] #1: name = 5: a text of letters"):
        load_cluster(_load(tmp_path, "name = 5"))


@pytest.mark.parametrize("prefix", ["rack-1.gpu_", "n", "GPU"])
def test_a_plain_prefix_gives_names_host_lists_give_back(tmp_path: Path, prefix: str) -> None:
    names = [n.name for n in load_cluster(_load(tmp_path, f'prefix = "{prefix}"\ncount = 3')).nodes]
    assert names == [f"{prefix}000", f"{prefix}001", f"{prefix}002"]
    assert expand(compress(names)) == names


def test_a_partition_needs_a_name_that_is_a_text(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('[[nodes]]\nprefix = "n"\n[[partitions]]\nname = 5\n')
    with pytest.raises(ClusterFileError, match=r"\[\[partitions\]\] #1: name = 5: a partition's name"):
        load_cluster(path)


def test_a_byte_order_mark_is_not_part_of_the_cluster_file_or_topology_conf(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text("\ufeffSwitchName=s1 Nodes=n[000-003]\n", encoding="utf-8")
    path = tmp_path / "site.toml"
    text = '\ufeff[[nodes]]\nprefix = "n"\ncount = 4\n[topology]\nslurm_conf = "topology.conf"\n'
    path.write_text(text, encoding="utf-8")
    cluster = load_cluster(path)
    assert len(cluster.nodes) == 4 and cluster.topology is not None and cluster.topology.paths[3] == ("s1",)


def test_the_right_types_still_load(tmp_path: Path) -> None:
    group = 'prefix = "n"\ncount = 2\nmem = "4G"\nfeatures = ["ib"]\nextras = { fpga = 2 }'
    path = _load(tmp_path, group, PARTITION + "max_time = 3600\npriority_tier = 3\n")
    cluster = load_cluster(path)
    node, part = cluster.nodes[1], cluster.partition("batch")
    assert node.features == ("ib",) and node.capacity.mem_mb == 4096 and node.capacity.extras == {"fpga": 2}
    assert part.max_time == 3600.0 and part.priority_tier == 3 and part.default and part.nodes == ("n000", "n001")
