"""topology.conf read as Slurm's config parser reads it (QA): a line ending in a backslash continues on the next,
joined with nothing between them, so a hostlist split after a comma is one hostlist; ``Include FILE`` reads FILE
(from the including file's folder) in its place, with loops and missing files named; an empty SwitchName= or
Nodes= is told as such, not as "expected Key=Value pairs"."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.clusterfile import ClusterFileError, load_cluster
from hal.topology_conf import TopologyConfError, load_topology_conf, parse_topology_conf

NAMES = [f"n{i:02d}" for i in range(8)]


def _cluster(tmp: Path, conf: str) -> Path:
    (tmp / "topology.conf").write_text(conf)
    path = tmp / "c.toml"
    path.write_text('[[nodes]]\nnames = "n[00-07]"\ncpus = 2\n[topology]\nslurm_conf = "topology.conf"\n')
    return path


def test_a_hostlist_continued_after_a_comma_is_one_hostlist() -> None:
    topo = parse_topology_conf("SwitchName=s0 Nodes=n[00-03],\\\nn[04-07]\n", NAMES)
    assert {p[-1] for p in topo.paths} == {"s0"} and not topo.outside


def test_a_continuation_that_glues_two_pairs_is_told_so() -> None:
    with pytest.raises(TopologyConfError, match=r"line 1: 'SwitchName=s0Nodes=n\[00-07\]': a value with '='"):
        parse_topology_conf("SwitchName=s0\\\nNodes=n[00-07]\n", NAMES)


def test_an_escaped_backslash_does_not_continue() -> None:
    with pytest.raises(TopologyConfError, match=r"line 1: expected Key=Value pairs, got '\\\\\\\\'"):
        parse_topology_conf("SwitchName=s0 Nodes=n[00-07] \\\\\nLinkSpeed=1\n", NAMES)


def test_include_reads_a_file_from_the_including_files_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "leaves.conf").write_text("SwitchName=s0 Nodes=n[00-03]\ninclude more.conf\n")
    (tmp_path / "sub" / "more.conf").write_text("SwitchName=s1 Nodes=n[04-07]\n")
    cluster = load_cluster(_cluster(tmp_path, "# fabric\nInclude sub/leaves.conf\nSwitchName=top Switches=s[0-1]\n"))
    topo = cluster.topology
    assert topo is not None and topo.levels == ("tier1", "switch")
    assert topo.paths[0] == ("top", "s0") and topo.paths[7] == ("top", "s1")


def test_an_error_in_an_included_file_names_that_file_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "leaves.conf").write_text("SwitchName=s1 Nodes=n[04-07]\nSwitchName=s0 Nodes=n[00-03]\n")
    conf = tmp_path / "topology.conf"
    conf.write_text("SwitchName=s0 Nodes=n[00-03]\nInclude leaves.conf\n")
    with pytest.raises(TopologyConfError) as err:
        load_topology_conf(conf, NAMES)
    assert str(err.value) == (f"{tmp_path / 'leaves.conf'} line 2: switch 's0' is already defined at line 1"), str(
        err.value
    )


def test_a_missing_include_is_named_with_the_line_that_includes_it(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError) as err:
        load_cluster(_cluster(tmp_path, "SwitchName=s0 Nodes=n[00-07]\nInclude nope.conf\n"))
    said = str(err.value)
    assert said.startswith(f"[topology]: {tmp_path / 'topology.conf'} line 2: Include nope.conf: "), said
    assert f"not found: {tmp_path / 'nope.conf'}" in said, said


def test_an_include_loop_is_refused_with_its_files(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text("SwitchName=s0 Nodes=n[00-07]\nInclude topology.conf\n")
    conf = tmp_path / "topology.conf"
    conf.write_text("Include a.conf\n")
    with pytest.raises(TopologyConfError) as err:
        load_topology_conf(conf, NAMES)
    said = str(err.value)
    assert said.startswith(f"{tmp_path / 'a.conf'} line 2: Include topology.conf: include loop ("), said
    assert f"{conf} -> {tmp_path / 'a.conf'} -> {conf})" in said, said


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SwitchName= Nodes=n[00-07]\n", "SwitchName= needs a name"),
        ("SwitchName=s0 Nodes=\n", "Nodes= is empty"),
        ('SwitchName=s0 Nodes=""\n', "Nodes= is empty"),
        ("BlockName= Nodes=n[00-07]\n", "BlockName= needs a name"),
        ("Include\n", "Include needs a file name"),
    ],
)
def test_an_empty_value_is_told_by_its_key(text: str, message: str) -> None:
    with pytest.raises(TopologyConfError) as err:
        parse_topology_conf(text, NAMES)
    assert str(err.value) == f"topology.conf line 1: {message}"
