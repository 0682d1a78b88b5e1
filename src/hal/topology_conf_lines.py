"""The checks each form of topology.conf line gets whether or not the plugin uses it: Slurm parses the whole file,
so a line of the form it ignores is still refused when it is malformed (QA: a bad hostlist or BlockSizes= on an
ignored line passed in silence). Only the checks against the cluster's nodes are left to the form in use."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Sequence

from hal.executors.hostlist import compress, expand

Entries = list[tuple[int, dict[str, str]]]  # (line, keys lowercased -> value) per record
LineWarn = Callable[[int, str], None]  # a warning about a line: its number, then the message


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


def none_known(kind: str, node_names: Sequence[str], listed: Sequence[str]) -> str:
    """The error for a file none of whose node names is a cluster node's: it said which cluster nodes lacked a
    switch, not that the file's names were all unknown, nor that they differed by zero-padding alone (QA)."""
    said = f"nodes without a {kind}: {list(node_names[:5])}{' ...' if len(node_names) > 5 else ''}"
    if not listed:  # each line empty (`SwitchName=s0` alone): only the cluster's nodes were named (QA)
        kinds = f"{kind}es" if kind.endswith("h") else f"{kind}s"
        return f"no {kind} lists a node (slurmctld: {kinds} contain no nodes); {said}"
    said += f"; none of the file's node names ({compress(sorted(set(listed)))}) is a node of the cluster"
    unpadded = {_unpad(n): n for n in node_names}
    pairs = [(n, unpadded[_unpad(n)]) for n in listed if _unpad(n) in unpadded]
    if pairs:
        file_name, cluster_name = pairs[0]
        said += (
            f": some differ from the cluster's by zero-padding alone (e.g. the file's {file_name!r} is the "
            f"cluster's {cluster_name!r}); names are compared as written, so write the file's hostlists as the "
            "cluster names its nodes"
        )
    return said


def _unpad(name: str) -> str:
    return re.sub(r"\d+", lambda m: str(int(m.group())), name)


def switch_graph(entries: Entries, warn: LineWarn | None = None) -> tuple[dict[str, str], dict[str, int]]:
    """Each switch's parent and each switch's line, the SwitchName= lines checked: names once, valid hostlists,
    every child defined, no loop. What slurmctld takes with a warning, or silently, is taken here too (QA: each
    was refused, so a site could not import its file unedited), ``warn`` told (silent without it): a switch of both
    Nodes= and Switches= is a leaf whose Switches= is ignored; one of neither is an empty leaf (no node is under it,
    so it is left out of the tree); a switch in two Switches= lists keeps the first line's, as HAL's tree has one
    parent per switch."""
    names: dict[str, int] = {}
    for lineno, rec in entries:
        first = names.setdefault(rec["switchname"], lineno)
        if first != lineno:
            raise TopologyConfError(f"switch {rec['switchname']!r} is already defined at line {first}", lineno)
        if "nodes" in rec:
            expand_hosts(rec["nodes"], lineno)
            if "switches" in rec and warn:  # switch_record.c: "Ignoring children switches for %s"
                warn(lineno, f"Ignoring children switches for {rec['switchname']} (Switches={rec['switches']}): "
                             "a switch with Nodes= is a leaf switch, as Slurm takes it")  # fmt: skip
    parents: dict[str, list[tuple[str, int]]] = {}  # every Switches= that lists it, in the file's order
    for lineno, rec in entries:
        for child in expand_hosts(rec["switches"], lineno) if "switches" in rec and "nodes" not in rec else []:
            if child not in names:
                raise TopologyConfError(f"switch {child!r} is not defined", lineno)
            listed = parents.setdefault(child, [])
            if any(up == rec["switchname"] for up, _ in listed):
                raise TopologyConfError(f"switch {child!r} is listed twice", lineno)
            listed.append((rec["switchname"], lineno))
    _no_loop(parents, names)
    told: LineWarn = warn or (lambda _line, _message: None)
    for child, listed in parents.items():
        (kept, at), *others = listed
        for up, lineno in others:
            told(lineno, f"switch {child!r} is in the Switches= of both {kept!r} (line {at}) and {up!r}: Slurm takes "
                         f"both, but HAL's tree has one parent per switch, so it stays under {kept!r} (the first line "
                         f"that lists it) and a job placed under {up!r} does not reach its nodes")  # fmt: skip
    return {child: listed[0][0] for child, listed in parents.items()}, names


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
    """No node of the cluster (``known``) under two blocks, as the block form refuses it."""
    owner: dict[str, str] = {}
    for lineno, rec in entries:
        for node in expand_hosts(rec["nodes"], lineno) if "nodes" in rec else []:
            if node in known and node in owner:
                raise TopologyConfError(f"node {node!r} is already under {owner[node]!r}", lineno)
            owner[node] = rec[key]


def check_ignored(kind: str, switches: Entries, blocks: Entries, sizes: Entries, known: Collection[str]) -> None:
    """The lines of the form the plugin ``kind`` does not use, checked as that form's own are (Slurm parses the
    whole file), but against the cluster's nodes only for a node in two blocks."""
    if kind == "block":  # a node under two leaf switches is no error in a tree either (slurmctld warns)
        switch_graph(switches)
        return
    check_blocks(blocks)
    check_sizes(sizes, blocks)
    listed_once(blocks, "blockname", known)


def _no_loop(parents: dict[str, list[tuple[str, int]]], line: dict[str, int]) -> None:
    """Refuse a loop of Switches= (slurmctld: "Switch configuration is not a tree"; one no node hangs under was
    accepted), naming each switch of it and the line of the first, which lists the next (it named one switch and no
    line). Every Switches= counts, not only the parent a switch keeps: a loop through a dropped one is still one."""
    done: set[str] = set()

    def climb(chain: list[str]) -> None:  # chain[i] is in Switches= of chain[i + 1]
        for up, _ in parents.get(chain[-1], []):
            if up in chain:  # read top down, each lists the next
                loop = chain[chain.index(up) :][::-1]
                first = min(range(len(loop)), key=lambda i: line[loop[i]])  # told from its first line in the file
                loop = loop[first:] + loop[:first]
                said = ", which lists ".join(repr(s) for s in [*loop[1:], loop[0]])
                raise TopologyConfError(f"switch loop: {loop[0]!r} lists {said} (Switches=)", line[loop[0]])
            if up not in done:
                climb([*chain, up])
        done.add(chain[-1])

    for sw in parents:
        if sw not in done:
            try:
                climb([sw])
            except RecursionError:  # a traceback, not a message (review)
                raise TopologyConfError(f"Switches= above {sw!r} nest too deep for HAL to follow", line[sw]) from None
