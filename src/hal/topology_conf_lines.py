"""The checks each form of topology.conf line gets whether or not the plugin uses it: Slurm parses the whole file,
so a line of the form it ignores is still refused when it is malformed (QA: a bad hostlist or BlockSizes= on an
ignored line passed in silence). Only the checks against the cluster's nodes are left to the form in use."""

from __future__ import annotations

import itertools
from collections.abc import Collection

from hal.executors.hostlist import expand

Entries = list[tuple[int, dict[str, str]]]  # (line, keys lowercased -> value) per record


class TopologyConfError(ValueError):
    """A topology.conf that does not describe the cluster's nodes; ``line``: the line at fault, where there is one
    (the file and the line are put before the message where the file is read)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def expand_hosts(hosts: str, lineno: int) -> list[str]:
    try:
        return expand(hosts)
    except ValueError as exc:
        raise TopologyConfError(f"invalid hostlist: {exc}", lineno) from exc


def switch_graph(entries: Entries) -> tuple[dict[str, str], dict[str, int]]:
    """Each switch's parent and each switch's line, the SwitchName= lines checked: names once, Nodes= (a leaf) or
    Switches= (a parent) but one of them, valid hostlists, every child defined with one parent, no loop."""
    parent: dict[str, str] = {}
    names: dict[str, int] = {}
    for lineno, rec in entries:
        first = names.setdefault(rec["switchname"], lineno)
        if first != lineno:
            raise TopologyConfError(f"switch {rec['switchname']!r} is already defined at line {first}", lineno)
        if "nodes" in rec and "switches" in rec:
            raise TopologyConfError("a switch lists Nodes= (a leaf) or Switches= (a parent), not both", lineno)
    for lineno, rec in entries:
        for child in expand_hosts(rec["switches"], lineno) if "switches" in rec else []:
            if child not in names:
                raise TopologyConfError(f"switch {child!r} is not defined", lineno)
            if parent.get(child) == rec["switchname"]:
                raise TopologyConfError(f"switch {child!r} is listed twice", lineno)
            if child in parent:
                raise TopologyConfError(f"switch {child!r} has two parents", lineno)
            parent[child] = rec["switchname"]
    for lineno, rec in entries:
        if "nodes" not in rec and "switches" not in rec:
            raise TopologyConfError(f"switch {rec['switchname']!r} has neither Nodes= nor Switches=", lineno)
        if "nodes" in rec:
            expand_hosts(rec["nodes"], lineno)
    _no_loop(parent, names)
    return parent, names


def check_blocks(entries: Entries) -> None:
    """The BlockName= lines: names once (two lines of one name were merged into one larger block), Nodes= given
    (accepted without a word, while a switch without nodes was refused, QA) and a valid hostlist."""
    first: dict[str, int] = {}
    for lineno, rec in entries:
        seen = first.setdefault(rec["blockname"], lineno)
        if seen != lineno:
            raise TopologyConfError(f"block {rec['blockname']!r} is already defined at line {seen}", lineno)
        if "nodes" not in rec:
            raise TopologyConfError(f"block {rec['blockname']!r} has no Nodes=", lineno)
        if "switches" in rec:  # a block holds nodes only; it was ignored without a word (QA)
            raise TopologyConfError(
                f"block {rec['blockname']!r}: Switches= is for SwitchName= lines; a block lists its Nodes= only", lineno
            )
        expand_hosts(rec["nodes"], lineno)


def check_sizes(sizes: Entries, blocks: Entries) -> list[int]:
    """The one BlockSizes= line, for BlockName= lines; its sizes (none without it)."""
    if len(sizes) > 1:  # the last one silently won
        raise TopologyConfError(f"BlockSizes= is already given at line {sizes[0][0]}", sizes[1][0])
    if sizes and not blocks:
        raise TopologyConfError("BlockSizes= without BlockName= lines", sizes[0][0])
    return block_sizes(*sizes[0]) if sizes else []


def block_sizes(lineno: int, rec: dict[str, str]) -> list[int]:
    """``BlockSizes=4,8,16``: the planning base block size (a block of fewer nodes is a base block with gaps,
    as Slurm 25.05 takes it), then each larger aggregation, each a power-of-two multiple of the one before (Slurm's
    rule)."""
    try:
        sizes = [int(x) for x in rec["blocksizes"].split(",") if x.strip()]
    except ValueError:
        raise TopologyConfError(f"BlockSizes={rec['blocksizes']} is not a list of node counts", lineno) from None
    if (
        not sizes
        or sizes[0] < 1
        or any(b <= a or b % a or (b // a) & (b // a - 1) for a, b in itertools.pairwise(sizes))
    ):
        raise TopologyConfError(
            f"BlockSizes={rec['blocksizes']}: increasing node counts, each a power-of-two multiple of the one before "
            "(4,8,16 or 30,120)",
            lineno,
        )
    return sizes


def listed_once(entries: Entries, key: str, known: Collection[str]) -> None:
    """No node of the cluster (``known``) under two switches or blocks, as the form in use refuses it."""
    owner: dict[str, str] = {}
    for lineno, rec in entries:
        for node in expand_hosts(rec["nodes"], lineno) if "nodes" in rec else []:
            if node in known and node in owner:
                raise TopologyConfError(f"node {node!r} is already under {owner[node]!r}", lineno)
            owner[node] = rec[key]


def check_ignored(kind: str, switches: Entries, blocks: Entries, sizes: Entries, known: Collection[str]) -> None:
    """The lines of the form the plugin ``kind`` does not use, checked as that form's own are (Slurm parses the
    whole file), but against the cluster's nodes only for a node listed twice."""
    if kind == "block":
        switch_graph(switches)
        listed_once(switches, "switchname", known)
        return
    check_blocks(blocks)
    check_sizes(sizes, blocks)
    listed_once(blocks, "blockname", known)


def _no_loop(parent: dict[str, str], line: dict[str, int]) -> None:
    """Refuse a loop of Switches= (one no node hangs under was accepted), naming each switch of it and the line of
    the first, which lists the next (it named one switch and no line)."""
    for sw in parent:
        chain, seen = [sw], {sw}
        while chain[-1] in parent:
            up = parent[chain[-1]]
            if up in seen:  # chain[i] is in Switches= of chain[i + 1]: read top down, each lists the next
                loop = chain[chain.index(up) :][::-1]
                first = min(range(len(loop)), key=lambda i: line[loop[i]])  # told from its first line in the file
                loop = loop[first:] + loop[:first]
                said = ", which lists ".join(repr(s) for s in [*loop[1:], loop[0]])
                raise TopologyConfError(f"switch loop: {loop[0]!r} lists {said} (Switches=)", line[loop[0]])
            chain.append(up)
            seen.add(up)
