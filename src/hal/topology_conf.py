"""Importing Slurm's topology.conf (topology/tree switches, topology/block blocks) as a HAL Topology."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hal.executors.hostlist import compress
from hal.model.topology import Topology
from hal.textfile import read_text
from hal.topology_conf_lines import (
    TopologyConfError,
    check_blocks,
    check_ignored,
    check_sizes,
    expand_hosts,
    none_known,
    switch_graph,
)
from hal.topology_conf_read import records, where

__all__ = ["TopologyConfError", "load_topology_conf", "parse_topology_conf", "plugin_kind", "uniform_blocks"]

log = logging.getLogger("hal.topology")
Warn = Callable[[str], None]  # where a file's warnings go: the log by default, the terminal for `hal cluster show`


KNOWN_KEYS = {"switchname", "switches", "nodes", "linkspeed", "blockname", "blocksizes"}
# the cluster file's ``plugin``, as slurm.conf's TopologyPlugin names it or short
PLUGINS = {"tree": "tree", "topology/tree": "tree", "block": "block", "topology/block": "block"}
TREE_LEVELS = (
    "the names HAL gives topology.conf's switches: 'switch' for the leaf switches (Nodes=), 'tier1', 'tier2', ... "
    "for each level of switches above them"
)
BLOCK_LEVELS = (
    "the names HAL gives topology.conf's blocks: 'block' for a BlockName= block, 'blockN' for an aggregation of N "
    "nodes (BlockSizes=), 'blocks' for all of them"
)


@dataclass(frozen=True, slots=True)
class _File:
    """Where a topology.conf came from: its errors and warnings name it (they gave a line number of no file)."""

    source: str
    warn: Warn

    def at(self, line: int | None) -> str:
        return where(self.source, line)


def plugin_kind(value: object) -> str:
    """The cluster file's ``plugin`` (slurm.conf's TopologyPlugin): which lines of a topology.conf are used."""
    kind = PLUGINS.get(value.strip().lower()) if isinstance(value, str) else None
    if kind is None:
        raise ValueError(f'plugin = {value!r}: "tree" or "block" (or Slurm\'s "topology/tree", "topology/block")')
    return kind


def parse_topology_conf(
    text: str,
    node_names: Sequence[str],
    warn: Warn | None = None,
    plugin: str | None = None,
    source: str = "topology.conf",
) -> Topology:
    """The tree form (``SwitchName=... Nodes=...|Switches=...``) or the block form (``BlockName=... Nodes=...``,
    the aligned aggregations of consecutive blocks a larger job must stay inside: ``BlockSizes=``'s, else Slurm's
    default of 1, 2, 4, 8 and 16 blocks). Nodes the cluster does not have are left out with a warning, as
    slurmctld logs them and goes on (a site's file lists login or retired nodes); so is a switch or block left
    without any node, and a cluster node no switch or block lists (``warn``, else the log). A file of both forms
    needs ``plugin`` ("tree" or "block", as slurm.conf's TopologyPlugin chooses); the other form's lines are then
    checked as the used form's are (Slurm parses the whole file) but not used. Errors and warnings name ``source``
    (the file) and the line; ``Include FILE`` lines read FILE from ``source``'s folder unless it is absolute."""
    conf = _File(source, warn or log.warning)
    try:
        return _parse(records(text, source), node_names, conf, plugin_kind(plugin) if plugin is not None else None)
    except TopologyConfError as exc:
        raise TopologyConfError(f"{conf.at(exc.line)}: {exc}", exc.line) from None


def _parse(
    records: list[tuple[int, dict[str, str]]], node_names: Sequence[str], conf: _File, plugin: str | None
) -> Topology:
    for lineno, rec in records:
        unknown = sorted(set(rec) - KNOWN_KEYS)
        if unknown:  # `Switch=` for `Switches=` silently split one fabric into two
            raise TopologyConfError(
                f"unknown key {unknown[0]!r}; topology.conf takes SwitchName, Switches, Nodes, LinkSpeed, BlockName "
                "and BlockSizes",
                lineno,
            )
        if "switchname" in rec and "blockname" in rec:
            raise TopologyConfError("a line is a switch (SwitchName=) or a block (BlockName=), not both", lineno)
        if not rec.get("linkspeed", "0").isdigit():  # Slurm reads a number (and uses none); `fast` was taken
            raise TopologyConfError(f"LinkSpeed={rec['linkspeed']!r} is not a whole number", lineno)
    switches = [(ln, r) for ln, r in records if "switchname" in r]
    blocks = [(ln, r) for ln, r in records if "blockname" in r]
    sizes = [(ln, r) for ln, r in records if "blocksizes" in r]
    if plugin is None and blocks and switches:  # Slurm's TopologyPlugin reads its own lines and ignores the rest
        raise TopologyConfError(
            f"both SwitchName= lines (topology/tree, line {switches[0][0]}) and BlockName= lines (topology/block, "
            f'line {blocks[0][0]}): choose which HAL uses with [topology] plugin = "tree" or "block" in the cluster '
            "file, as slurm.conf's TopologyPlugin does"
        )
    kind = plugin or ("block" if blocks or sizes else "tree")
    mine, theirs = ("SwitchName=", "BlockName=") if kind == "tree" else ("BlockName=", "SwitchName=")
    other = sorted({ln for ln, r in records if ("switchname" in r) == (kind == "block")})
    if other and plugin is not None:  # read (the syntax above), but not placed on
        what = "BlockName=/BlockSizes=" if kind == "tree" else "SwitchName="
        where = f"line {other[0]}" if len(other) == 1 else f"lines {other[0]}-{other[-1]}"
        conf.warn(f'{conf.source}: plugin = "{kind}": its {what} lines ({where}) are ignored, as Slurm\'s '
                  f"topology/{kind} ignores them")  # fmt: skip
    if plugin is not None and not (switches if kind == "tree" else blocks) and (switches or blocks):
        raise TopologyConfError(f'plugin = "{kind}", but there are no {mine} lines, only {theirs} lines')
    if other:  # not placed on, but Slurm parses them: a malformed one is refused as the used form's would be
        check_ignored(kind, switches, blocks, sizes, set(node_names))
    if kind == "tree":
        if not switches:
            raise TopologyConfError("no SwitchName= or BlockName= line found")
        return _tree(switches, node_names, conf)
    given = check_sizes(sizes, blocks)
    if not blocks:
        raise TopologyConfError("no SwitchName= or BlockName= line found")
    return _blocks(blocks, node_names, conf, given)


def _owner(
    entries: list[tuple[int, dict[str, str]]], key: str, node_names: Sequence[str], conf: _File
) -> dict[str, str]:
    """Each node's switch (or block); nodes the cluster does not have are named, with their switch, and left out
    (they were dropped with the whole switch and no word of which switch, QA). A node under two leaf switches stays
    under the first line's, with slurmctld's warning ("Multiple leaf switches contain nodes"; fat-tree files do it,
    and it was refused, QA); under two blocks it is refused. Cluster nodes under none are left to the caller (each
    its own domain, ``_outside``); a file that puts no cluster node under any is refused."""
    known = set(node_names)
    owner: dict[str, str] = {}
    line: dict[str, int] = {}
    twice: dict[tuple[str, str, int], list[str]] = {}  # (kept switch, other switch, other's line): nodes
    listed: list[str] = []
    for lineno, rec in entries:
        if "nodes" not in rec:
            continue
        line[rec[key]] = lineno
        names = expand_hosts(rec["nodes"], lineno)
        listed += names
        strangers = [n for n in names if n not in known]
        if strangers:  # a site's file names login or retired nodes: slurmctld logs them and goes on
            more = f" and {len(strangers) - 3} more" if len(strangers) > 3 else ""
            conf.warn(f"{conf.at(lineno)} ({key[:-4]} {rec[key]!r}): {strangers[:3]}{more} not in the cluster; ignored")
        for node in (n for n in names if n in known):
            if node in owner and key == "blockname":
                raise TopologyConfError(f"node {node!r} is already under {owner[node]!r}", lineno)
            if node in owner and owner[node] != rec[key]:  # (listed twice by one switch: a bitmap in Slurm)
                twice.setdefault((owner[node], rec[key], lineno), []).append(node)
            owner.setdefault(node, rec[key])
    for (kept, other, lineno), nodes in twice.items():
        conf.warn(
            f"{conf.at(lineno)}: Multiple leaf switches contain nodes: {compress(nodes)} in both {kept!r} (line "
            f"{line[kept]}) and {other!r}; HAL's tree has one leaf switch per node, so they stay under {kept!r} (the "
            "first line that lists them)"
        )
    if not owner:
        raise TopologyConfError(none_known(key[:-4], node_names, listed))
    return owner


def _blocks(
    entries: list[tuple[int, dict[str, str]]], node_names: Sequence[str], conf: _File, sizes: Sequence[int] = ()
) -> Topology:
    """One level of blocks and a level per larger size above it: aligned groups of consecutive blocks (in the
    file's order), so a job that needs more than one block takes an aligned group of the smallest size that holds
    it, as Slurm's topology/block places it. ``sizes`` are BlockSizes; without it, Slurm's default: every
    power-of-two group of 1, 2, 4, 8 and 16 blocks, the base block size being the first block's node count
    (block_record.c). A block of fewer nodes counts as one of the base size. As in Slurm, the sizes stop at the
    first group that holds every block."""
    check_blocks(entries)
    owner = _owner(entries, "blockname", node_names, conf)
    _left_out(entries, "block", set(owner.values()), "no job is placed there", conf)
    index = {rec["blockname"]: i for i, (_, rec) in enumerate(entries)}
    if not sizes:  # slurmctld: the first block's node count is the planning base block size
        first = min(set(owner.values()), key=index.__getitem__)
        base = sum(1 for block in owner.values() if block == first)
        sizes = [base << k for k in range(5)]
    # A block of fewer nodes than the base is a base block with gaps: Slurm 25.05 takes it ("permit gaps within
    # the block definitions"; 24.11 and older were fatal), and so does block_size = N for its last block (QA: the
    # same BlockName= lines were refused here).
    _short_blocks(owner, index, sizes, conf)
    alone = _outside(node_names, owner, set(index), conf, "block")
    return _block_topology(node_names, owner, index, sizes, alone, BLOCK_LEVELS)


def _kept(sizes: Sequence[int], blocks: int) -> list[int]:
    """The aggregation sizes (in nodes, base first) that group ``blocks`` blocks: as in Slurm, they stop at the
    first group that holds every block."""
    kept = [size for size in sizes if size // sizes[0] < blocks]
    return kept + [size for size in sizes if size // sizes[0] >= blocks][:1]


def _short_blocks(owner: dict[str, str], index: dict[str, int], sizes: Sequence[int], conf: _File) -> None:
    """Warns of node counts short blocks keep from ever running. Slurm's topology/block sizes a job's group by its
    node count alone (eval_nodes_block: the smallest aggregation whose nominal size, the base block size times its
    blocks, holds it) and never climbs a level, so where each group of that size takes in a short block, a job of
    more nodes than the roomiest of them holds is refused (QA: blocks of 4, 2, 4, 2 nodes refused -N 7 and -N 8,
    and took -N 12)."""
    nodes = [0] * (max(index[b] for b in set(owner.values())) + 1)  # each block's, in the file's order
    for block in owner.values():
        nodes[index[block]] += 1
    base, total = sizes[0], sum(nodes)
    short = [b for b in sorted(set(owner.values()), key=index.__getitem__) if nodes[index[b]] < base]
    said, below = [], 0
    for size in _kept(sizes, len(nodes)) if short else []:  # the counts in (below, size] take a group of size
        per = size // base
        most = max(sum(nodes[i : i + per]) for i in range(0, len(nodes), per))
        lo, hi = max(below, most) + 1, min(size, total)
        if lo <= hi:
            level = "block" if per == 1 else f"block{size}"
            said.append(f"{lo}{f'-{hi}' if hi > lo else ''} nodes (one {level}: the largest holds {most})")
        below = size
    if said:
        named = ", ".join(f"{b!r} ({nodes[index[b]]} nodes)" for b in short[:4]) + f" and {len(short) - 4} more" * (
            len(short) > 4
        )
        conf.warn(
            f"{conf.source}: blocks {named} hold fewer nodes than the base block size ({base}); a job is placed in "
            "the smallest aggregation of blocks whose size holds its node count, never a larger one, as in Slurm's "
            f"topology/block, so jobs of {'; '.join(said)} can never run"
        )


def uniform_blocks(node_names: Sequence[str], size: int) -> Topology:
    """The cluster file's ``block_size = N``: consecutive nodes in blocks of N, placed exactly as the same blocks
    listed as ``BlockName=`` lines without ``BlockSizes=`` (Slurm's default aggregations of 1, 2, 4, 8 and 16
    blocks of N nodes), so the two forms give the same placements (QA: block_size was one level of blocks, and a
    two-block job took any two, unaligned). A last block of fewer nodes is a base block with gaps, counted as one
    of N, as both forms and Slurm (25.05 and later) take it."""
    if size < 1:
        raise ValueError(f"block_size is a whole number of nodes >= 1 (nodes per block), not {size!r}")
    owner = {name: f"block{i // size}" for i, name in enumerate(node_names)}
    index = {f"block{k}": k for k in range(-(-len(node_names) // size))}
    one = (
        f"block_size = {size} in the cluster file: 'block' for its blocks of {size} nodes, 'blockN' for an aligned "
        "aggregation of N nodes (Slurm's default sizes: 2, 4, 8 and 16 blocks), 'blocks' for all of them"
    )
    return _block_topology(node_names, owner, index, [size << k for k in range(5)], {}, one)


def _block_topology(
    node_names: Sequence[str],
    owner: dict[str, str],
    index: dict[str, int],
    sizes: Sequence[int],
    alone: dict[str, str],
    names_from: str,
) -> Topology:
    """The levels of blocks (``owner``: each node's block; ``index``: each block's place in the file) and of the
    aligned aggregations ``sizes`` (in nodes, base first) above them; ``alone``: nodes in no block."""
    blocks = max(index[b] for b in set(owner.values())) + 1
    kept = _kept(sizes, blocks)
    upper = list(reversed(kept[1:]))
    # A job larger than the largest group spans the whole block topology (eval_nodes_block: no block level fits,
    # so every base block is one block); when that group does not already hold every block, a level above it.
    whole = ("blocks",) if kept[-1] // kept[0] < blocks else ()
    levels = (*whole, *(f"block{size}" for size in upper), "block")
    paths = tuple(
        (alone[n],) * len(levels)
        if n in alone
        else (*whole, *(f"bs{size}-{index[owner[n]] // (size // kept[0])}" for size in upper), owner[n])
        for n in node_names
    )
    # the nodes in no block are each apart: no job spans them and a block
    outside = frozenset(i for i, n in enumerate(node_names) if n in alone)
    sizes_top_first = (*((len(owner),) if whole else ()), *upper, kept[0])
    return Topology(levels, paths, not alone, outside, block_nodes=sizes_top_first, names_from=names_from)


def _left_out(entries: list[tuple[int, dict[str, str]]], kind: str, used: set[str], what: str, conf: _File) -> None:
    """Name each switch or block no node of the cluster is under: it is not in the topology HAL places on."""
    for lineno, rec in entries:
        name = rec[f"{kind}name"]
        empty = "nodes" not in rec and "switches" not in rec  # Slurm: an empty leaf switch
        said = "has neither Nodes= nor Switches= (an empty leaf switch, as Slurm takes it)" if empty else None
        if name not in used:
            conf.warn(f"{conf.at(lineno)}: {kind} {name!r} {said or 'has no node of the cluster'}; left out ({what})")


def _tree(entries: list[tuple[int, dict[str, str]]], node_names: Sequence[str], conf: _File) -> Topology:
    parent, names = switch_graph(entries, lambda line, message: conf.warn(f"{conf.at(line)}: {message}"))
    leaf = _owner(entries, "switchname", node_names, conf)
    chains: dict[str, list[str]] = {}
    for sw in set(leaf.values()):  # (no loop: each chain ends at a switch without a parent)
        chain = [sw]
        while chain[-1] in parent:
            chain.append(parent[chain[-1]])
        chains[sw] = chain[::-1]  # root first
    _left_out(entries, "switch", {sw for c in chains.values() for sw in c}, "not in the tree", conf)
    depth = max(len(c) for c in chains.values())
    # shallower branches repeat their top switch so every node has one name per level
    padded = {sw: [c[0]] * (depth - len(c)) + c for sw, c in chains.items()}
    levels = (*(f"tier{k}" for k in range(depth - 1, 0, -1)), "switch")
    roots = sorted({c[0] for c in chains.values()}, key=names.__getitem__)  # more than one: fabrics that share
    if len(roots) > 1:  # no switch, never spanned: Slurm warns that no switch reaches all nodes (QA: silent)
        tops = ", ".join(repr(r) for r in roots[:4]) + (f" and {len(roots) - 4} more" if len(roots) > 4 else "")
        conf.warn(
            f"{conf.source}: no switch reaches all nodes: the switches form {len(roots)} separate fabrics (top "
            f"switches {tops}), and no job spans two of them, as in Slurm; a switch listing {tops} in Switches= "
            "joins them"
        )
    alone = _outside(node_names, leaf, set(names), conf, "switch")
    padded |= {sw: [sw] * depth for sw in alone.values()}
    paths = tuple(tuple(padded[leaf.get(n) or alone[n]]) for n in node_names)
    outside = frozenset(i for i, n in enumerate(node_names) if n in alone)
    return Topology(levels, paths, len(roots) + len(alone) == 1, outside, names_from=TREE_LEVELS)


def _outside(
    node_names: Sequence[str], owner: dict[str, str], taken: set[str], conf: _File, kind: str
) -> dict[str, str]:
    """Cluster nodes no switch (``kind``, or block) lists: slurmctld warns ("switches lack access to N nodes",
    "blocks lack access to N nodes") and starts. Each is its own fabric, a domain of one node at every level
    that no job shares with another node, as no switch or block links it to any: jobs still run there, one node
    each, and the rest is placed as the file says. Returns each such node's domain name."""
    missing = [n for n in node_names if n not in owner]
    if not missing:
        return {}
    where = "outside the tree" if kind == "switch" else "outside the blocks"
    conf.warn(
        f"{conf.source}: no {kind} lists {len(missing)} node(s) of the cluster: {compress(missing)}; each is placed "
        f"on its own, {where}: jobs run there, but none spans one of them and another node"
    )
    alone: dict[str, str] = {}
    for node in missing:
        name = f"no{kind}:{node}"
        while name in taken:  # a switch or block of that name: the node's own domain must differ from it
            name += "'"
        alone[node] = name
    return alone


def load_topology_conf(
    path: str | Path, node_names: Sequence[str], warn: Warn | None = None, plugin: object = None
) -> Topology:
    """The file at ``path``; its errors and warnings name it. ``plugin`` (ValueError if it is none of PLUGINS) is
    checked before the file is read."""
    kind = plugin_kind(plugin) if plugin is not None else None
    text = read_text(Path(path), "topology.conf", TopologyConfError)
    return parse_topology_conf(text, node_names, warn, kind, str(path))


def tree_counts(topology: Topology) -> dict[str, int] | None:
    """topology.conf's switches per level, top first, each counted once at its own level: its height over the
    nodes, as Slurm levels a switch (one above its highest child). The tree repeats a shallower branch's top
    switch over the levels it lacks, so every node has a name per level; counted there, a leaf switch under the
    root was a tier1 too (QA: "2 tier1(s)" with one). None for a topology that is not an imported tree."""
    if topology.names_from != TREE_LEVELS:
        return None
    height: dict[str, int] = {}
    for i, path in enumerate(topology.paths):
        if i in topology.outside:  # each its own fabric, not a switch
            continue
        chain = list(path)
        while len(chain) > 1 and chain[0] == chain[1]:  # (no switch is in its own chain twice: no loops)
            chain.pop(0)
        for up, switch in enumerate(reversed(chain)):
            height[switch] = max(height.get(switch, 0), up)
    counts = dict.fromkeys(topology.levels, 0)
    for up in height.values():
        counts[topology.levels[-1 - up]] += 1
    return counts
