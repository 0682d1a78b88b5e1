"""Importing Slurm's topology.conf (topology/tree switches, topology/block blocks) as a HAL Topology."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from hal.executors.hostlist import compress, expand
from hal.model.topology import Topology
from hal.textfile import read_text

_PAIR = re.compile(r"(\w+)=(\S+)")

log = logging.getLogger("hal.topology")
Warn = Callable[[str], None]  # where a file's warnings go: the log by default, the terminal for `hal cluster show`


KNOWN_KEYS = {"switchname", "switches", "nodes", "linkspeed", "blockname", "blocksizes"}


class TopologyConfError(ValueError):
    """A topology.conf that does not describe the cluster's nodes, with the line at fault."""


def _records(text: str) -> list[tuple[int, dict[str, str]]]:
    """Key=Value records, one per logical line (comments dropped, backslash continuations joined)."""
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not pending:
            start = lineno
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append((start, pending + line))
        pending = ""
    if pending:  # a continuation on the last line: the record ends with the file (it was dropped)
        logical.append((start, pending))
    return [(start, _pairs(start, line)) for start, line in logical if line.strip()]


def _pairs(start: int, line: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for token in line.split():
        match = _PAIR.fullmatch(token)
        if match is None:  # a stray word was ignored, and the line meant something else
            raise TopologyConfError(f"line {start}: expected Key=Value pairs, got {token!r}")
        key = match.group(1).lower()
        if key in pairs:  # the last one won, silently
            raise TopologyConfError(f"line {start}: {match.group(1)}= given twice")
        pairs[key] = match.group(2).strip('"')  # Nodes="gpu[001-004]" as Slurm reads it
    return pairs


def parse_topology_conf(text: str, node_names: Sequence[str], warn: Warn | None = None) -> Topology:
    """The tree form (``SwitchName=... Nodes=...|Switches=...``) or the block form (``BlockName=... Nodes=...``,
    the aligned aggregations of consecutive blocks a larger job must stay inside: ``BlockSizes=``'s, else Slurm's
    default of 1, 2, 4, 8 and 16 blocks). Nodes the cluster does not have are left out with a warning, as
    slurmctld logs them and goes on (a site's file lists login or retired nodes); so is a switch or block left
    without any node, and a cluster node no switch or block lists (``warn``, else the log)."""
    warn = warn or log.warning
    records = _records(text)
    for lineno, rec in records:
        unknown = sorted(set(rec) - KNOWN_KEYS)
        if unknown:  # `Switch=` for `Switches=` silently split one fabric into two
            raise TopologyConfError(
                f"line {lineno}: unknown key {unknown[0]!r}; topology.conf takes SwitchName, Switches, Nodes, "
                "LinkSpeed, BlockName and BlockSizes"
            )
    sizes = [(ln, r) for ln, r in records if "blocksizes" in r]
    if len(sizes) > 1:  # the last one silently won
        raise TopologyConfError(f"line {sizes[1][0]}: BlockSizes= is already given at line {sizes[0][0]}")
    blocks = [(ln, r) for ln, r in records if "blockname" in r]
    if sizes and not blocks:
        raise TopologyConfError(f"line {sizes[0][0]}: BlockSizes= without BlockName= lines")
    if blocks and sizes:
        return _blocks(blocks, node_names, warn, _block_sizes(*sizes[-1]))
    switches = [(ln, r) for ln, r in records if "switchname" in r]
    if blocks and switches:
        raise TopologyConfError("a topology.conf has either SwitchName= lines (tree) or BlockName= lines (block)")
    if blocks:
        return _blocks(blocks, node_names, warn)
    if switches:
        return _tree(switches, node_names, warn)
    raise TopologyConfError("no SwitchName= or BlockName= line found")


def _owner(
    entries: list[tuple[int, dict[str, str]]], key: str, node_names: Sequence[str], warn: Warn
) -> dict[str, str]:
    """Each node's switch (or block); nodes the cluster does not have are named, with their switch, and left out
    (they were dropped with the whole switch and no word of which switch, QA). Cluster nodes under none are
    left to the caller (each its own domain, ``_outside``); a file that puts no cluster node under any is refused."""
    known = set(node_names)
    owner: dict[str, str] = {}
    for lineno, rec in entries:
        if "nodes" not in rec:
            continue
        names = _expand(rec["nodes"], lineno)
        strangers = [n for n in names if n not in known]
        if strangers:  # a site's file names login or retired nodes: slurmctld logs them and goes on
            more = f" and {len(strangers) - 3} more" if len(strangers) > 3 else ""
            where = f"topology.conf line {lineno} ({key[:-4]} {rec[key]!r})"
            warn(f"{where}: {strangers[:3]}{more} not in the cluster; ignored")
        for node in (n for n in names if n in known):
            if node in owner:
                raise TopologyConfError(f"line {lineno}: node {node!r} is already under {owner[node]!r}")
            owner[node] = rec[key]
    missing = [n for n in node_names if n not in owner]
    if not owner:
        raise TopologyConfError(f"nodes without a {key[:-4]}: {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    return owner


def _expand(hosts: str, lineno: int) -> list[str]:
    try:
        return expand(hosts)
    except ValueError as exc:
        raise TopologyConfError(f"line {lineno}: invalid hostlist: {exc}") from exc


def _block_sizes(lineno: int, rec: dict[str, str]) -> list[int]:
    """``BlockSizes=4,8,16``: the planning base block size (every block has at least that many nodes), then each
    larger aggregation, each a power-of-two multiple of the one before (Slurm's rule)."""
    try:
        sizes = [int(x) for x in rec["blocksizes"].split(",") if x.strip()]
    except ValueError:
        raise TopologyConfError(f"line {lineno}: BlockSizes={rec['blocksizes']} is not a list of node counts") from None
    if (
        not sizes
        or sizes[0] < 1
        or any(b <= a or b % a or (b // a) & (b // a - 1) for a, b in itertools.pairwise(sizes))
    ):
        raise TopologyConfError(
            f"line {lineno}: BlockSizes={rec['blocksizes']}: increasing node counts, each a power-of-two multiple of "
            "the one before (4,8,16 or 30,120)"
        )
    return sizes


def _blocks(
    entries: list[tuple[int, dict[str, str]]], node_names: Sequence[str], warn: Warn, sizes: Sequence[int] = ()
) -> Topology:
    """One level of blocks and a level per larger size above it: aligned groups of consecutive blocks (in the
    file's order), so a job that needs more than one block takes an aligned group of the smallest size that holds
    it, as Slurm's topology/block places it. ``sizes`` are BlockSizes; without it, Slurm's default: every
    power-of-two group of 1, 2, 4, 8 and 16 blocks, the base block size being the first block's node count
    (block_record.c). As in Slurm, the sizes stop at the first group that holds every block."""
    first: dict[str, int] = {}
    for lineno, rec in entries:  # two lines of one name were merged into one larger block
        seen = first.setdefault(rec["blockname"], lineno)
        if seen != lineno:
            raise TopologyConfError(f"line {lineno}: block {rec['blockname']!r} is already defined at line {seen}")
        if "nodes" not in rec:  # accepted without a word, while a switch without nodes was refused (QA)
            raise TopologyConfError(f"line {lineno}: block {rec['blockname']!r} has no Nodes=")
    owner = _owner(entries, "blockname", node_names, warn)
    _left_out(entries, "block", set(owner.values()), "no job is placed there", warn)
    index = {rec["blockname"]: i for i, (_, rec) in enumerate(entries)}
    counts: dict[str, int] = {}
    for block in owner.values():
        counts[block] = counts.get(block, 0) + 1
    small = min(counts, key=lambda b: counts[b])
    if not sizes:  # slurmctld: the first block's node count is the base, and a smaller block is fatal
        base = min(counts, key=lambda b: index[b])
        if counts[small] < counts[base]:
            raise TopologyConfError(
                f"without BlockSizes=, the first block's node count is the planning base block size (block "
                f"{base!r}: {counts[base]} nodes, as in Slurm), but block {small!r} has {counts[small]}; give "
                f"BlockSizes={counts[small]} or more sizes"
            )
        sizes = [counts[base] << k for k in range(5)]
    elif counts[small] < sizes[0]:  # the first BlockSizes value is the planning base block size
        raise TopologyConfError(
            f"BlockSizes={','.join(map(str, sizes))}: every block needs at least the base block size "
            f"({sizes[0]} nodes), but block {small!r} has {counts[small]}"
        )
    blocks = max(index[b] for b in counts) + 1
    kept = [size for size in sizes if size // sizes[0] < blocks]
    kept += [size for size in sizes if size // sizes[0] >= blocks][:1]  # the first group of every block
    alone = _outside(node_names, owner, set(index), warn, "block")
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
    return Topology(levels, paths, not alone, outside, block_nodes=sizes_top_first)


def _left_out(entries: list[tuple[int, dict[str, str]]], kind: str, used: set[str], what: str, warn: Warn) -> None:
    """Name each switch or block no node of the cluster is under: it is not in the topology HAL places on."""
    for lineno, rec in entries:
        name = rec[f"{kind}name"]
        if name not in used:
            warn(f"topology.conf line {lineno}: {kind} {name!r} has no node of the cluster; left out ({what})")


def _tree(entries: list[tuple[int, dict[str, str]]], node_names: Sequence[str], warn: Warn) -> Topology:
    parent: dict[str, str] = {}
    names: dict[str, int] = {}
    for lineno, rec in entries:
        first = names.setdefault(rec["switchname"], lineno)
        if first != lineno:
            raise TopologyConfError(f"line {lineno}: switch {rec['switchname']!r} is already defined at line {first}")
        if "nodes" in rec and "switches" in rec:
            raise TopologyConfError(f"line {lineno}: a switch lists Nodes= (a leaf) or Switches= (a parent), not both")
    for lineno, rec in entries:
        for child in _expand(rec["switches"], lineno) if "switches" in rec else []:
            if child not in names:
                raise TopologyConfError(f"line {lineno}: switch {child!r} is not defined")
            if parent.get(child) == rec["switchname"]:
                raise TopologyConfError(f"line {lineno}: switch {child!r} is listed twice")
            if child in parent:
                raise TopologyConfError(f"line {lineno}: switch {child!r} has two parents")
            parent[child] = rec["switchname"]
    for lineno, rec in entries:
        if "nodes" not in rec and "switches" not in rec:
            raise TopologyConfError(f"line {lineno}: switch {rec['switchname']!r} has neither Nodes= nor Switches=")
    for sw in parent:  # a loop of parents no node hangs under was accepted
        seen, at = {sw}, sw
        while at in parent:
            at = parent[at]
            if at in seen:
                raise TopologyConfError(f"switch loop through {at!r}")
            seen.add(at)
    leaf = _owner(entries, "switchname", node_names, warn)
    chains: dict[str, list[str]] = {}
    for sw in set(leaf.values()):
        chain, seen = [sw], {sw}
        while chain[-1] in parent:
            nxt = parent[chain[-1]]
            if nxt in seen:
                raise TopologyConfError(f"switch loop through {nxt!r}")
            chain.append(nxt)
            seen.add(nxt)
        chains[sw] = chain[::-1]  # root first
    _left_out(entries, "switch", {sw for c in chains.values() for sw in c}, "not in the tree", warn)
    depth = max(len(c) for c in chains.values())
    # shallower branches repeat their top switch so every node has one name per level
    padded = {sw: [c[0]] * (depth - len(c)) + c for sw, c in chains.items()}
    levels = (*(f"tier{k}" for k in range(depth - 1, 0, -1)), "switch")
    roots = {c[0] for c in chains.values()}  # more than one: fabrics that share no switch, never spanned
    alone = _outside(node_names, leaf, set(names), warn, "switch")
    padded |= {sw: [sw] * depth for sw in alone.values()}
    paths = tuple(tuple(padded[leaf.get(n) or alone[n]]) for n in node_names)
    outside = frozenset(i for i, n in enumerate(node_names) if n in alone)
    return Topology(levels, paths, connected=len(roots) + len(alone) == 1, outside=outside)


def _outside(
    node_names: Sequence[str], owner: dict[str, str], taken: set[str], warn: Warn, kind: str
) -> dict[str, str]:
    """Cluster nodes no switch (``kind``, or block) lists: slurmctld warns ("switches lack access to N nodes",
    "blocks lack access to N nodes") and starts. Each is its own fabric, a domain of one node at every level
    that no job shares with another node, as no switch or block links it to any: jobs still run there, one node
    each, and the rest is placed as the file says. Returns each such node's domain name."""
    missing = [n for n in node_names if n not in owner]
    if not missing:
        return {}
    where = "outside the tree" if kind == "switch" else "outside the blocks"
    warn(
        f"topology.conf: no {kind} lists {len(missing)} node(s) of the cluster: {compress(missing)}; each is placed "
        f"on its own, {where}: jobs run there, but none spans one of them and another node"
    )
    alone: dict[str, str] = {}
    for node in missing:
        name = f"no{kind}:{node}"
        while name in taken:  # a switch or block of that name: the node's own domain must differ from it
            name += "'"
        alone[node] = name
    return alone


def load_topology_conf(path: str | Path, node_names: Sequence[str], warn: Warn | None = None) -> Topology:
    return parse_topology_conf(read_text(Path(path), "topology.conf", TopologyConfError), node_names, warn)
