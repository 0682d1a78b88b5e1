"""Slurm topology.conf import: the tree and block forms, and errors that name the line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.clusterfile import cluster_from_dict
from hal.engine.plugins.topology import TopoIndex
from hal.topology_conf import TopologyConfError, parse_topology_conf

NODES = [f"dev{i}" for i in range(12)]


def test_tree_form_with_continuation_and_comments() -> None:
    text = """# a two-level fat tree
SwitchName=s0 Nodes=dev[0-5]
SwitchName=s1 Nodes=dev[6-9]
SwitchName=s2 Nodes=dev[10-11]
SwitchName=spine Switches=s[0-1] \\
    LinkSpeed=100
SwitchName=top Switches=spine,s2
"""
    topo = parse_topology_conf(text, NODES)
    assert topo.levels == ("tier2", "tier1", "switch")
    assert topo.paths[0] == ("top", "spine", "s0") and topo.paths[11] == ("top", "top", "s2")
    ix = TopoIndex(topo)
    assert ix.span(__import__("numpy").array([0, 7]))[1] == 2  # s0 and s1 meet at the spine


def test_block_form() -> None:
    text = 'BlockName=b1 Nodes=dev[0-5]\nBlockName=b2 Nodes="dev[6-11]"\n'  # quoted, as Slurm allows
    topo = parse_topology_conf(text, NODES)  # no BlockSizes: Slurm's default aggregations, up to both blocks
    assert topo.levels == ("block12", "block") and topo.paths[6] == ("bs12-0", "b2")


def test_block_sizes_make_aligned_aggregations() -> None:
    """BlockSizes=3,6: a job of 4-6 nodes takes an aligned pair of blocks ({b1,b2} or {b3,b4}), never b2+b3;
    it was ignored, and an 6-node job could land on b2 and b3."""
    from hal.engine.nodes import NodeBook
    from hal.engine.plugins.topology import TopologySelector
    from hal.engine.request import request_of
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.job import JobSpec
    from hal.model.resources import Resources

    base = Cluster.uniform(12, Resources(cpus=1))
    names = [n.name for n in base.nodes]
    text = "".join(f"BlockName=b{i + 1} Nodes={','.join(names[3 * i : 3 * i + 3])}\n" for i in range(4))
    topo = parse_topology_conf(text + "BlockSizes=3,6\n", names)
    assert topo.levels == ("blocks", "block6", "block")  # "blocks": all of them, for a job larger than 6 nodes
    assert topo.paths[4] == ("blocks", "bs6-0", "b2") and topo.paths[6] == ("blocks", "bs6-1", "b3")
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    table.free[[0, 1, 2, 9, 10, 11]] = 0  # b1 and b4 busy: b2 + b3 are free but not an aligned pair
    book = NodeBook(table, selector=TopologySelector(topo))
    six = request_of(JobSpec(1, 0.0, tasks=6, nodes=6, exclusive=True), table.space)
    assert book.allocate(six) is None
    table.free[[0, 1, 2]] = table.capacity[[0, 1, 2]]  # b1 frees: {b1, b2} is an aligned pair
    got = book.allocate(six)
    assert got is not None and set(got.nodes.tolist()) == set(range(6))
    # Larger than the largest aggregation: as in Slurm's eval_nodes_block (no block level fits), the whole block
    # topology is one block; it waits for 12 free nodes, and 3 segments of 3 take any 3 blocks.
    twelve = request_of(JobSpec(2, 0.0, tasks=12, nodes=12, exclusive=True), table.space)
    assert book.impossible(twelve) is None and book.allocate(twelve) is None  # 6 of the 12 nodes are taken
    seg = request_of(JobSpec(3, 0.0, tasks=9, nodes=9, segment=3), table.space)
    assert book.impossible(seg) is None
    table.free[:] = table.capacity
    table.free[[3]] = 0  # b2 has 2 free nodes: the segments go to b1, b3 and b4
    got = book.allocate(seg)
    assert got is not None and set(got.nodes.tolist()) == {0, 1, 2, 6, 7, 8, 9, 10, 11}
    for sizes in ("3,5", "3,9", "2,6"):  # Slurm: each a power-of-two multiple of the one before
        with pytest.raises(TopologyConfError, match="power-of-two multiple of the one before"):
            parse_topology_conf(text + f"BlockSizes={sizes}\n", names)
    gaps = parse_topology_conf(text + "BlockSizes=4,8\n", names)  # blocks of 3 under a base of 4: gaps (Slurm 25.05)
    assert gaps.levels == ("blocks", "block8", "block") and gaps.block_nodes == (12, 8, 4)
    assert parse_topology_conf(text + "BlockSizes=2,8\n", names).levels == ("block8", "block")  # man page's 30,120 form
    whole = parse_topology_conf(text + "BlockSizes=3,6,12\n", names)  # the largest aggregation is the whole machine
    book = NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, whole)), selector=TopologySelector(whole))
    assert book.impossible(twelve) is None and book.allocate(twelve) is not None  # QA: refused as over "block6"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SwitchName=s0 Nodes=dev[0-11]\nSwitchName=s1 Switches=s9\n", "not defined"),
        ("BlockName=b Nodes=dev[0-11]\nSwitchName=s Nodes=dev0\n", r'\[topology\] plugin = "tree" or "block"'),
        ("SwitchName=s0 Nodes=dev[11-0]\n", "line 1: .* the range '11-0' runs backwards"),
        (
            "SwitchName=s0 Nodes=dev[0-5]\nSwitchName=s0 Nodes=dev[6-11]\n",
            "line 2: switch 's0' is already defined at line 1",
        ),
        ("SwitchName=s0 Nodes=dev[0-11]\nSwitchName=top Switch=s0\n", "line 2: unknown key 'switch'"),
        # each of these was accepted without a word (QA round 8)
        ("BlockName=b1 Nodes=dev[0-5]\nBlockName=b1 Nodes=dev[6-11]\n", "line 2: block 'b1' is already defined"),
        ("SwitchName=s0 Nodes=dev[0-11] foo\n", "line 1: expected Key=Value pairs, got 'foo'"),
        ("SwitchName=s0 Nodes=dev[0-5] Nodes=dev[6-11]\n", "line 1: Nodes= given twice"),
        ("SwitchName=s0 Nodes=dev[0-11]\nSwitchName=a Switches=b\nSwitchName=b Switches=a\n", "switch loop"),
        ("SwitchName=a Nodes=dev[0-5]\nSwitchName=b Nodes=dev[6-11]\nSwitchName=t Switches=a,a,b\n", "listed twice"),
        ("BlockName=b1 Nodes=dev[0-11]\nBlockSizes=12\nBlockSizes=6\n", "line 3: BlockSizes= is already given"),
        ("BlockName=b1\nBlockName=b2 Nodes=dev[0-11]\n", "line 1: block 'b1' has no Nodes="),  # QA: accepted
        ("BlockName=b1 Nodes=dev[0-11] Switches=s1\n", "line 1: block 'b1': Switches= is for SwitchName="),  # ignored
        ("SwitchName=s0 Nodes=dev[0-11] LinkSpeed=fast\n", "line 1: LinkSpeed='fast' is not a whole number"),  # QA
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(TopologyConfError, match=message):
        parse_topology_conf(text, NODES)


def test_cluster_file_reads_topology_conf(tmp_path: Path) -> None:
    conf = tmp_path / "topology.conf"
    conf.write_text("BlockName=b1 Nodes=n[000-001]\nBlockName=b2 Nodes=n[002-003]\n")
    cluster = cluster_from_dict(
        {"nodes": [{"prefix": "n", "count": 4, "cpus": 8}], "topology": {"slurm_conf": str(conf)}}
    )
    assert cluster.topology is not None and cluster.topology.paths[3] == ("bs4-0", "b2")  # Slurm's default sizes
    blocks = cluster_from_dict({"nodes": [{"prefix": "n", "count": 36, "cpus": 8}], "topology": {"block_size": 18}})
    assert blocks.topology is not None and blocks.topology.paths[20] == ("bs36-0", "block1")


def test_relative_paths_are_read_from_the_cluster_files_folder(tmp_path: Path) -> None:
    from hal.clusterfile import ClusterFileError, load_cluster

    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "topology.conf").write_text("SwitchName=s0 Nodes=n[000-001]\nSwitchName=s1 Nodes=n[002-003]\n")
    (folder / "c.toml").write_text('[[nodes]]\nprefix = "n"\ncount = 4\n[topology]\nslurm_conf = "topology.conf"\n')
    cluster = load_cluster(folder / "c.toml")  # whatever the current folder is
    assert cluster.topology is not None and cluster.topology.paths[2] == ("s1",)
    (folder / "d.toml").write_text('[[nodes]]\nprefix = "n"\ncount = 4\n[topology]\nslurm_conf = "."\n')
    with pytest.raises(ClusterFileError, match=r"cannot read topology\.conf"):
        load_cluster(folder / "d.toml")
    (folder / "e.toml").write_text(
        '[[nodes]]\nprefix = "n"\ncount = 4\n[topology]\nlevels = ["switch"]\nfanouts = [0]\n'
    )
    with pytest.raises(ClusterFileError, match="fanouts must be positive"):
        load_cluster(folder / "e.toml")
    (folder / "f.toml").write_text('[[nodes]]\nprefix = "n"\ncount = 4\n[topology]\nlevels = []\nfanouts = []\n')
    with pytest.raises(ClusterFileError, match="name at least one level"):  # was read as flat, no table said
        load_cluster(folder / "f.toml")


def test_separate_fabrics_are_never_spanned() -> None:
    """Slurm: jobs only span nodes connected through the switch tree. Two fabrics (``top`` over s0 and s1, and
    ``s2`` alone) hold 8 and 4 nodes: a 6-node job fits in the first, a 10-node job is refused though 12 exist."""
    from hal.engine.nodes import NodeBook
    from hal.engine.plugins.topology import TopologySelector
    from hal.engine.request import request_of
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.job import JobSpec
    from hal.model.resources import Resources

    base = Cluster.uniform(12, Resources(cpus=1))
    names = [n.name for n in base.nodes]  # n000 ... n011
    topo = parse_topology_conf(
        "SwitchName=s0 Nodes=n[000-003]\nSwitchName=s1 Nodes=n[004-007]\nSwitchName=s2 Nodes=n[008-011]\n"
        "SwitchName=top Switches=s[0-1]\n",
        names,
    )
    assert not topo.connected
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    book = NodeBook(table, selector=TopologySelector(topo))

    def req(n: int) -> object:
        return request_of(JobSpec(n, 0.0, tasks=n, nodes=n, exclusive=True), table.space)

    six = book.allocate(req(6))  # type: ignore[arg-type]
    assert six is not None and set(six.nodes.tolist()) <= set(range(8))
    book.release(six)
    assert "the largest domain a job may span" in (book.impossible(req(10)) or "")  # type: ignore[arg-type]
    anywhere = request_of(JobSpec(9, 0.0, tasks=9, nodes=9, exclusive=True, topology_required="cluster"), table.space)
    assert "the largest domain a job may span" in (book.impossible(anywhere) or "")  # QA: required=cluster spanned
    assert book.allocate(anywhere) is None
    assert parse_topology_conf("SwitchName=s0 Nodes=n[000-005]\nSwitchName=s1 Nodes=n[006-011]\n"
                               "SwitchName=top Switches=s[0-1]\n", names).connected  # fmt: skip
    assert parse_topology_conf(
        "SwitchName=s0 Nodes=n[000-005]\nSwitchName=s1 Nodes=n[006-011]\nSwitchName=top Switches=s[0-1] \\", names
    ).connected  # a final '\\' kept the record


def test_first_and_best_fit_keep_jobs_inside_one_fabric_too() -> None:
    """Not only topology placement: first fit (the default of `hal simulate --cluster`) spanned separate fabrics."""
    from hal.engine.plugins.leaf_reserve import placement_book
    from hal.engine.profile import Profile
    from hal.engine.request import request_of
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.job import JobSpec
    from hal.model.resources import Resources

    base = Cluster.uniform(12, Resources(cpus=1))
    names = [n.name for n in base.nodes]
    topo = parse_topology_conf(
        "SwitchName=s0 Nodes=n[000-003]\nSwitchName=s1 Nodes=n[004-007]\nSwitchName=s2 Nodes=n[008-011]\n"
        "SwitchName=top Switches=s[0-1]\n",
        names,
    )
    for placement in ("firstfit", "bestfit"):
        table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
        book = placement_book(table, Profile(placement=placement), topo)
        table.free[[0, 1]] = 0  # fabric {s0, s1} has 6 free nodes, s2 has 4
        six = book.allocate(request_of(JobSpec(1, 0.0, tasks=6, nodes=6, exclusive=True), table.space))
        assert six is not None and set(six.nodes.tolist()) <= set(range(8)), placement
        table.free[[2]] = 0  # now 5 free in the first fabric, 4 in the second: 6 fit nowhere
        assert book.allocate(request_of(JobSpec(2, 0.0, tasks=6, nodes=6, exclusive=True), table.space)) is None
        assert "every domain a job may span" in (
            book.impossible(request_of(JobSpec(3, 0.0, tasks=10, nodes=10, exclusive=True), table.space)) or ""
        )


def test_names_outside_the_cluster_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Slurm logs them ('Invalid hostnames in switch configuration') and goes on; a site's file lists login nodes."""
    topo = parse_topology_conf("SwitchName=s0 Nodes=dev[0-11],login[1-2]\n", NODES)
    assert topo.paths[0] == ("s0",)
    assert "['login1', 'login2'] not in the cluster; ignored" in caplog.text


@pytest.mark.parametrize(
    ("nodes", "said"),
    [
        ("dev[0-11", r"line 2: invalid hostlist: 'dev\[0-11': a '\[' without its '\]'"),
        ("dev[0-5]],dev[6-11]", r"line 2: invalid hostlist: 'dev\[0-5\]\],dev\[6-11\]': a '\]' without its '\['"),
        ("dev[[0-11]]", r"line 2: invalid hostlist: .* a '\[' inside brackets"),
    ],
)
def test_hostlist_syntax_errors_name_the_line(nodes: str, said: str) -> None:
    """QA: Nodes=node[01-08 was read as one unknown node name (a warning), and node[01-08]],node[09-16] expanded
    into garbage names: both are errors in the file, as Slurm reports them."""
    with pytest.raises(TopologyConfError, match=said):
        parse_topology_conf(f"# fabric\nSwitchName=s0 Nodes={nodes}\n", NODES)
    with pytest.raises(TopologyConfError, match=said.replace("line 2", "line 1")):
        parse_topology_conf(f"BlockName=b0 Nodes={nodes}\n", NODES)


def test_a_required_level_smaller_than_the_job_is_named_before_its_segments() -> None:
    """QA: -N8 --segment=4 --topology required=block on blocks of 4 said "needs 2 segments of 4 nodes ... the
    machine holds at most 4": two segments fit the machine; required=block allows one 4-node block."""
    from hal.engine.nodes import NodeBook
    from hal.engine.plugins.topology import TopologySelector
    from hal.engine.request import request_of
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.job import JobSpec
    from hal.model.resources import Resources

    base = Cluster.uniform(16, Resources(cpus=2))
    names = [n.name for n in base.nodes]
    text = "".join(f"BlockName=b{i + 1} Nodes={','.join(names[4 * i : 4 * i + 4])}\n" for i in range(4))
    topo = parse_topology_conf(text + "BlockSizes=4,8,16\n", names)
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    book = NodeBook(table, selector=TopologySelector(topo))

    def said(**kw: object) -> str:
        return book.impossible(request_of(JobSpec(1, 0.0, tasks=8, nodes=8, **kw), table.space)) or ""  # type: ignore[arg-type]

    assert said(segment=4, topology_required="block") == "needs 8 nodes within one block; the largest has 4"
    assert said(segment=4, topology_required="block8") == ""  # two aligned blocks: it fits
    assert said(topology_required="block") == "needs 8 nodes within one block; the largest has 4"
    assert "a segment must fit inside one block" in said(segment=8)
