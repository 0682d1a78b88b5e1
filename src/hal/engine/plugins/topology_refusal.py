"""What a topology refusal says: why a request can never fit, even on an empty machine (its --segment, its
required level, the domains a job may span, a level the cluster does not have)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hal.engine.plugins.topology_span import block_cap, span_nodes
from hal.engine.request import Request

if TYPE_CHECKING:
    from hal.engine.plugins.topology import TopoIndex


def refusal(
    ix: TopoIndex, seg_level: int, names: Sequence[str], req: Request, room: npt.NDArray[np.int64], units: int
) -> str | None:
    """Why ``req`` can never fit when ``room`` is what each node could ever give it (TopologySelector.why)."""
    what = "nodes" if req.nodes else "tasks"
    for level in (req.topology_required, req.topology_preferred):
        if level and ix.level(level) is None:
            return unknown_level(ix, level)
    if req.segment:
        block, seg = ix.names[seg_level], req.segment
        largest = int(ix.sums(seg_level, room).max())
        if seg > largest:
            if blamed(req):  # Slurm: the requested nodes do not share a block
                return (
                    f"--segment={seg}: {not_shared(req, block)}: a segment of {count(seg, 'node')} stays inside one "
                    f"{block}, and {in_one(largest)}"
                )
            return (
                f"--segment={seg}: a segment must fit inside one {block}, and the largest holds "
                f"{count(largest, 'node')}"
            )
        per = ix.sums(seg_level, room) // seg  # segments each block holds
        block_top = np.zeros(per.size, dtype=np.intp)
        block_top[ix.ids[seg_level]] = ix.ids[ix.span_top]
        most = int(np.bincount(block_top, weights=per, minlength=ix.counts[ix.span_top]).max())
        where = "the machine" if ix.span_top == ix.top else (
            f"one {ix.names[ix.span_top]} (the largest domain a job may span: a separate fabric, or all the "
            "blocks)"
        )  # fmt: skip
        if blamed(req):
            within = "" if ix.span_top == ix.top else f" within one {ix.names[ix.span_top]}"
            return (
                f"--segment={seg}: {blamed(req)} do not make {units // seg} groups of {seg} that each "
                f"share a {block}: they make at most {most}{within}"
            )
        return (
            f"--segment={seg}: needs {count(units // seg, 'segment')} of {count(seg, 'node')}, each inside one "
            f"{block}; {where} holds at most {most}"
        )
    if req.topology_required and (ix.level(req.topology_required) or 0) <= ix.span_top:
        return required_refusal(ix, req, room, units, always=True)
    if ix.span_top < ix.top or block_cap(ix, req) is not None:
        return span_refusal(ix, room, units, what, names, block_cap(ix, req), req)
    return None


def required_refusal(
    ix: TopoIndex, req: Request, room: npt.NDArray[np.int64], units: int, always: bool = False
) -> str | None:
    """--topology required=LEVEL smaller than the job (None if the level holds it, unless ``always``). With -w,
    the requested nodes are what do not share the level (`-N2 --topology required=block -w gpu004,gpu005` on
    blocks of 4 was told "the largest has 1", QA)."""
    level = req.topology_required or ""
    lvl = ix.level(level) if level else None
    if lvl is None or lvl > ix.span_top:
        return None
    biggest, what = int(ix.sums(lvl, room).max()), count(units, "node" if req.nodes else "task")
    if biggest >= units and not always:
        return None
    if blamed(req):
        return f"{not_shared(req, level)}: needs {what} within one {level}, and {in_one(biggest, bool(req.nodes))}"
    return f"needs {what} within one {level}; the largest {has(biggest, bool(req.nodes))}"


def blamed(req: Request) -> str:
    """The nodes a -w or -x list leaves the job, as a refusal blames them ("" without a list). NodeBook asks the
    machine first, so a refusal that names them is one their list, not the machine, causes."""
    if req.node_names:
        return "the requested nodes (-w)"
    return "the nodes left after --exclude (-x)" if req.exclude_nodes else ""


def not_shared(req: Request, domain: str) -> str:
    """A refusal caused by -w/--nodelist (or -x), in Slurm's words (its nodes, not the machine, are what do not
    fit: `-N2 -w gpu004,gpu005` was told the largest block "has 1", QA)."""
    return f"{blamed(req)} do not share a {domain}"


def count(n: int, noun: str) -> str:
    """``n`` and its noun, singular for one ("the largest holds 1 nodes", QA)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def in_one(most: int, nodes: bool = True) -> str:
    """How many of the requested nodes one domain has; for tasks, how many tasks their room there holds."""
    if not nodes:
        return f"those in one have room for at most {count(most, 'task')}"
    return f"at most {most} of them {'is' if most == 1 else 'are'} in one"


def has(most: int, nodes: bool) -> str:
    """What the largest domain has: nodes, or room for tasks (its nodes' CPUs, memory and GPUs give them; "the
    largest has 4" said 4 of nothing to a -n 8 job, QA)."""
    return f"has {most}" if nodes else f"has room for {count(most, 'task')}"


def span_refusal(
    ix: TopoIndex,
    room: npt.NDArray[np.int64],
    units: int,
    what: str,
    names: Sequence[str],
    cap: int | None = None,
    req: Request | None = None,
) -> str | None:
    """A job larger than every domain it may span (separate fabrics, the aggregation of blocks its size calls for,
    all the blocks of topology/block); when nodes in no switch or block are among those it may use, say they are
    each apart (`-N2 -w c[07-08]` on two such nodes was told it "needs 2 nodes within one tier1", a level they are
    not in)."""
    level = ix.span_top if cap is None else cap
    biggest = int(ix.sums(level, room).max())
    if biggest >= units:
        return None
    name, smallest = ix.names[level], cap is not None and cap != ix.span_top
    sized = (span_nodes(ix, req) if req is not None else None) or units  # -n 8 on 2-CPU nodes is 4 nodes, not 8
    rule = (
        f"the smallest block aggregation that holds {sized} nodes (as in Slurm's topology/block)"
        if smallest
        else "the largest domain a job may span (as in Slurm: never two separate switch fabrics)"
    )
    said = (
        f"{not_shared(req, name)}: needs {units} {what} within one {name}, {rule}, and "
        f"{in_one(biggest, what == 'nodes')}"
        if req is not None and blamed(req) and name != "blocks"
        else f"needs {units} {what} within the blocks of topology.conf, and they "
        + (f"hold {biggest}" if what == "nodes" else f"have room for {count(biggest, 'task')}")
        if ix.names[level] == "blocks" and ix.outside_of == "block"
        else f"needs {units} {what} within one {ix.names[level]}, the largest domain a job may span (as in Slurm: "
        f"separate switch fabrics, or all the blocks); the largest {has(biggest, what == 'nodes')}"
        if cap is None or cap == ix.span_top
        else f"needs {units} {what} within one {ix.names[level]}, the smallest aggregation of blocks that holds "
        f"{sized} nodes (as in Slurm's topology/block); the largest {has(biggest, what == 'nodes')}"
    )
    usable = room > 0
    alone = np.flatnonzero(usable & ix.alone)
    if alone.size == 0:
        return said
    kind = ix.outside_of
    apart, domain = ("fabric", "switch fabric") if kind == "switch" else ("block", "block aggregation")
    listed = [names[int(i)] for i in alone[:4]] if len(names) == ix.n else []  # (the engine has no hostlists)
    more = f" and {alone.size - len(listed)} more" if listed and alone.size > len(listed) else ""
    who = ", ".join(listed) + more if listed else f"{alone.size} node(s)"
    if not (usable & ~ix.alone).any():  # only nodes in no switch: the tree's levels are beside the point
        nodes = f"the node it may use ({who}) is" if alone.size == 1 else f"the nodes it may use ({who}) are each"
        return (
            f"needs {units} {what} in one {domain}, but {nodes} in no {kind} of topology.conf: each is a separate "
            f"{apart} of one node, and a job never spans two (as in Slurm)"
        )
    largest = _largest_real(ix, level, room, names, biggest)
    return f"{said}{largest}; {who} {'is' if alone.size == 1 else 'are'} in no {kind} of topology.conf: each a " + (
        f"separate {apart} of one node"
    )


def _largest_real(ix: TopoIndex, level: int, room: npt.NDArray[np.int64], names: Sequence[str], biggest: int) -> str:
    """ " (switch s0: n000, ...)": the largest domain of ``level`` that topology.conf lists, with its usable nodes,
    named apart from the nodes in no switch or block (QA: those were named right after "the largest has 4" as if
    they were it, while each is a domain of one node). "": a node alone is the largest (its room for tasks)."""
    real = np.bincount(ix.ids[level], weights=~ix.alone, minlength=ix.counts[level]) > 0
    sums = np.where(real, ix.sums(level, room), -1)
    dom = int(np.argmax(sums))
    if sums[dom] < biggest:
        return ""
    inside = np.flatnonzero((ix.ids[level] == dom) & (room > 0))
    listed = [names[int(i)] for i in inside[:4]] if len(names) == ix.n else []
    more = f" and {inside.size - len(listed)} more" if listed and inside.size > len(listed) else ""
    label = ix.labels[level][dom].split("/")[-1]
    return f" ({ix.names[level]} {label}{': ' + ', '.join(listed) + more if listed else ''})"


def unknown_level(ix: TopoIndex, level: str) -> str:
    """A --topology level the cluster does not have, with the levels it has and where their names come from: an
    imported topology.conf's are HAL's own (switch, tier1, ...; block, block8, ...), met only in this error."""
    # the root HAL adds above separate top domains is listed as 'cluster' is everywhere: after the list (QA: the
    # same tree gave ['switch', 'cluster'] without a root switch and ['switch', 'tier1'] with one)
    added = ix.top > 0 and ix.names[-1] == "cluster" and ix.labels[-1] == ["cluster"]
    levels = ix.names[1:-1] if added else ix.names[1:]
    origin = f"{ix.names_from}, and " if ix.names_from else ""
    return f"unknown topology level {level!r}; levels are {levels} ({origin}'cluster' for the whole machine)"


def segment_too_big(book: Any, segment: int) -> str | None:
    """--segment=N larger than every block of the book's topology selector, in its refusal's words: `hal update`
    says it before the node count's multiple rule (QA: Segment=8 on a -N4 job was told "NumNodes=4 is not a
    multiple", while no block holds 8 nodes). None: a block holds it, or no topology selector."""
    sel = getattr(book.select, "inner", book.select)  # gated delay scheduling wraps the selector
    ix, level = getattr(sel, "index", None), getattr(sel, "seg_level", None)
    if ix is None or level is None:
        return None
    largest = int(ix.size[level].max())
    if segment <= largest:
        return None
    return f"--segment={segment}: a segment must fit inside one {ix.names[level]}, and the largest holds " + count(
        largest, "node"
    )
