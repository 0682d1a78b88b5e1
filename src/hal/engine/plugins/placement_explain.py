"""Why a placement: the parts of the combined score for a chosen allocation and for the best alternatives."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plugins.data_explain import at as _at
from hal.engine.plugins.data_explain import data_delay_of as data_delay_of  # where callers look for them
from hal.engine.plugins.data_explain import data_hold as data_hold
from hal.engine.plugins.data_explain import held_for_data as held_for_data
from hal.engine.plugins.placement_alternatives import alternatives as alternatives  # where callers look for it
from hal.engine.plugins.placement_alternatives import hold_on
from hal.engine.plugins.placement_parts import room_of
from hal.engine.plugins.topology import Hold, TopologySelector
from hal.engine.plugins.topology_span import block_cap, block_room, span_nodes
from hal.engine.plugins.topology_switches import never_under
from hal.engine.request import Request
from hal.model.job import PendingReason


def held_by_topo(book: NodeBook, req: Request) -> str | None:
    """In words, what holds an --exclusive=topo job that would start now if it could share a block: it goes only
    into blocks no other job uses (engine/sharing.py). QA: a -N1 one showed Resources, "waits for nodes to free up",
    while idle nodes sat in blocks other jobs used. None: not such a job, or it fits, or not even shared."""
    if req.share != "topo" or not book.sharing or book.fits(req) or not book.fits(replace(req, share="")):
        return None
    sel = getattr(book.select, "inner", book.select)
    block = "node" if book.blocks is None else "block"
    if isinstance(sel, TopologySelector) and book.blocks is not None:
        block = sel.index.names[sel.seg_level]
    blocked = book.blocked(req)
    idle = book._mask(req) & (book.free == book.table.capacity).all(axis=1) & (blocked if blocked is not None else 0)
    names = [book.table.names[int(i)] for i in np.flatnonzero(idle)]
    shown, one = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else ""), len(names) == 1
    where = f"; idle node{'' if one else 's'} {shown} {'is' if one else 'are'} in {block}s other jobs use"
    where = where if names else f"; every {block} with room has another job in it"
    return f"it goes only into {block}s no other job uses (--exclusive=topo, as in Slurm's topology/block){where}"


def held_by_domains(book: NodeBook, req: Request) -> str | None:
    """In words, what holds a job that asked for no topology constraint (reason Topology): the domain it must stay
    in, named with its size on topology/block (the smallest block aggregation of at least its nodes, as Slurm's
    eval_nodes_block places it), and the most it may use in one now. `hal explain` said "its largest block
    aggregation" instead (QA). None: not held so, or held by its own --segment, level or --switches (within its
    wait: ``book.now``, the last pass's time). An --exclusive=topo job held by others' blocks is told so first."""
    topo = held_by_topo(book, req)
    if topo is not None:
        return topo
    sel = getattr(book.select, "inner", book.select)
    if not isinstance(sel, TopologySelector) or req.segment or req.topology_required:
        return None
    if req.switches and book.now < req.submit + sel.args.switch_wait(req.switches_wait):
        return None  # its own --switches holds it (held_by_switches); past its wait only the domains do (QA)
    return _domain_words(book, req, sel)


def held_by_switches(book: NodeBook, req: Request) -> str | None:
    """In words, a --switches=N job held within its wait: whether the domain it may span would hold it too, and
    when the wait runs out (then it takes nodes over more switches). QA: `hal explain` said "nor the largest domain
    a job may span" of a job four free nodes in that domain could take. None: not so held."""
    sel = getattr(book.select, "inner", book.select)
    if not isinstance(sel, TopologySelector) or not req.switches or req.segment or req.topology_required:
        return None
    until = req.submit + sel.args.switch_wait(req.switches_wait)
    waited = getattr(book.select, "waited", None)  # DataDelay counts its decisions to wait: asking is not one
    try:
        if book.now >= until or book.fits(req):
            return None
        domains = _domain_words(book, req, sel)
        if domains is None and not book.fits(replace(req, switches=None)):
            return None  # nor without it: not its --switches (too few free, delay scheduling, ...)
    finally:
        if waited is not None:
            book.select.waited = waited  # type: ignore[union-attr]
    asked, wait = f"not within its --switches={req.switches}", f"its --switches wait runs out at {_at(until)}"
    if domains is not None:  # the domains hold it as well: after the wait, they alone
        return f"{asked}, and {domains}; {wait}, and then only the latter holds it"
    leaf, n = sel.index.names[sel.index.leaf], req.switches
    leaves = f"{n} {leaf if n == 1 else _plural(leaf)}"
    never = never_under(book, sel.index, req)  # the topology, not the load: the wait buys nothing (QA)
    if never is not None:
        what = f"{req.nodes} nodes" if req.nodes is not None else f"{req.tasks} tasks"
        return (
            f"{asked}: its {what} never fit under {leaves} of the nodes it may use (the largest hold {never}); "
            f"{wait}, and then it runs on more"
        )
    return f"{asked}: the nodes free for it now span more than {leaves}; {wait}, and then it takes them"


def _plural(name: str) -> str:
    return name + ("es" if name.endswith(("s", "sh", "ch", "x")) else "s")


def _domain_words(book: NodeBook, req: Request, sel: TopologySelector) -> str | None:
    """``held_by_domains``'s words, whatever the job's --switches."""
    ix = sel.index
    cap = block_cap(ix, req)
    if cap is None and ix.span_top == ix.top:
        return None
    room, units = room_of(book, req)
    blocked = book.blocked(req)  # what a sharing mode keeps from it (--exclusive=user or topo)
    room = room if blocked is None else np.where(blocked, 0, room)
    level = ix.span_top if cap is None else cap
    masks = book.partitions_of(req.partition) if "," in req.partition else [room >= 0]  # -p a,b: in one of them
    most = max(int(ix.sums(level, block_room(ix, req, np.where(m, room, 0), cap)).max()) for m in masks)
    if most >= units or int(room.sum()) < units:  # it fits now, or too few free: not the domains
        return None
    name, what = ix.names[level], "nodes" if req.nodes else "tasks"
    size, nodes = ix.nominal.get(name, 0), span_nodes(ix, req) or units
    sized = f"{nodes}" if req.nodes else f"the {nodes} nodes its tasks fit on at fewest"
    where = (
        f"one {name} ({size} nodes: the smallest block aggregation that holds {sized}, as Slurm's topology/block "
        f"places a job of {nodes} nodes in one aggregation of the smallest of its sizes that holds it)"
        if cap is not None and size
        else f"one {name}, the largest domain a job may span (as in Slurm: never two separate switch fabrics, nor "
        f"a node in no {ix.outside_of} and another)"
    )
    return f"it needs {units} {what} within {where}; the most it may use in one now is {most}"


def leaf_hold(book: NodeBook, req: Request) -> Hold | None:
    """The topology_reserve hold that alone keeps ``req`` from starting now: it would fit over more leaves.
    QA: such a head showed Resources, "waits for nodes to free up", with the nodes it could take idle."""
    hold = hold_on(book, req)
    if hold is None or book.fits(req):
        return None
    holds: dict[int, Hold] = getattr(book.select, "inner", book.select).holds  # type: ignore[union-attr]
    del holds[id(req)]
    try:
        free = book.fits(req)
    finally:
        holds[id(req)] = hold
    return hold if free else None


def held_by_leaves(sched: Scheduler, book: NodeBook, req: Request, job_id: int) -> str | None:
    """In words, the topology_reserve hold keeping a job to its fewest leaves (``leaf_hold``): how many, the
    nodes reserved there and when they free, and when the hold lapses (then it takes any placement). None: not
    so held."""
    hold = leaf_hold(book, req)
    sel = getattr(book.select, "inner", book.select)
    if hold is None or not isinstance(sel, TopologySelector):
        return None
    leaf = sel.index.names[sel.index.leaf]
    many = _plural(leaf)
    where = f"one {leaf}" if hold.leaves == 1 else f"{hold.leaves} {many}"
    planned = getattr(book.reserver, "planned", {}).get(job_id)
    there = ""
    if planned is not None:
        nodes = book.table.nodelist(sorted(int(n) for n in planned[1]))
        there = f"; it is reserved {nodes} there, free at about {_at(planned[0])}"
    lapse = (
        f"from {_at(hold.until)}, when its hold's wait runs out"
        if job_id == sched.head_id
        else "once that plan starts later than the hold's wait allows"
    )
    return (
        f"the profile's topology_reserve holds it for a placement within {where} (the fewest that hold its "
        f"{req.nodes} nodes) rather than over more {many} now{there}; it takes nodes over more {many} {lapse}"
    )


def reason_for(book: NodeBook, req: Request) -> PendingReason | None:
    """``Topology`` when enough resources are free now but not within the job's topology request, or not
    within one domain a job may span (separate fabrics, the nodes in blocks, the aggregation of
    blocks its node count calls for), or not within blocks no other job uses (--exclusive=topo), or not within
    the fewest leaves a profile's topology_reserve holds it to. ``DataLocality`` when delay scheduling alone holds it
    for the nodes holding its --input-data (QA: it showed Resources, "waits for nodes to free up", nodes idle)."""
    if req.share == "topo" and held_by_topo(book, req) is not None:
        return PendingReason.TOPOLOGY
    if leaf_hold(book, req) is not None:
        return PendingReason.TOPOLOGY
    if req.inputs and data_hold(book, req) is not None:  # delay scheduling, with nodes free elsewhere
        return PendingReason.DATA_LOCALITY
    index = getattr(book.select, "index", None)
    bounded = index is not None and (index.span_top < index.top or block_cap(index, req) is not None)
    if book.select is None or not (req.switches or req.topology_required or req.segment or bounded):
        return None
    selector, book.select = book.select, None
    try:
        counts_fit = book.fits(req)
    finally:
        book.select = selector
    return PendingReason.TOPOLOGY if counts_fit and not book.fits(req) else None


def topology_reason(sched: Scheduler, job_id: int) -> str | None:
    """The Topology reason for a pending job held only by its topology constraint, or DataLocality for one held
    only by delay scheduling (``reason_for``)."""
    book = sched.book
    if not isinstance(book, NodeBook) or (book.select is None and not book.sharing):
        return None
    item = sched.queue.get(job_id)
    if item is None:
        return None
    why = reason_for(book, item.req)
    return why.value if why is not None else None


def topology_hold(sched: Scheduler, job_id: int) -> str | None:
    """What holds a pending job beyond its resources, in words (`hal explain`'s why, through the advice call)."""
    from hal.engine.plugins.required_level import held_by_required  # imports this module
    from hal.engine.plugins.segment_hold import held_by_segment

    book = sched.book
    item = sched.queue.get(job_id)
    if not isinstance(book, NodeBook) or item is None:
        return None
    req = item.req
    return (
        held_by_domains(book, req)
        or held_by_required(book, req)
        or held_by_segment(book, req)
        or held_by_switches(book, req)
        or held_by_leaves(sched, book, req, job_id)
        or held_by_blocks(sched, book, req)
        or held_for_data(book, req)
    )


def held_by_blocks(sched: Scheduler, book: NodeBook, req: Request) -> str | None:
    """In words, the idle nodes other jobs' --exclusive=topo blocks keep from a job that would start now without
    them, naming the nodes and those jobs (they hold the rest of their blocks while they run; `hal nodes` shows
    them blocked). QA: such a job, plain or itself --exclusive=topo, showed only Resources, "waits for nodes to
    free up", with 12 of 16 nodes idle. Its reason stays Resources, as the queue shows it. None: not so held."""
    if not book.sharing or book.fits(req):
        return None
    holders = {jid: act.alloc.held for jid, act in sched.running.items() if getattr(act.alloc, "held", None)}
    if not holders:
        return None
    freed = book.free.copy()
    for held in holders.values():
        freed[held.nodes] += held.amounts
    seen = copy.copy(book)  # shares all but the free matrix (as controller/advice.as_seen_by does)
    seen.free = freed
    if not seen.fits(replace(req, share="") if req.share == "topo" else req):
        return None
    cap, names = book.table.capacity, book.table.names
    down = book.down  # a drained node is not idle, and freeing its block would not make it usable (QA)
    idle = {jid: [names[int(n)] for n, a in zip(h.nodes, h.amounts, strict=True)
                  if (a == cap[n]).all() and (down is None or not down[n])]
            for jid, h in holders.items()}  # fmt: skip
    jobs = sorted(jid for jid, nodes in idle.items() if nodes)
    if not jobs:
        return None
    many = len(jobs) > 1  # each job's nodes named by it only when there are several
    mine = {j for j in jobs if sched.running[j].item.spec.user == req.user}  # others' ids are theirs to see
    shown = [f"{', '.join(nodes[:4])}{f' and {len(nodes) - 4} more' if len(nodes) > 4 else ''}"
             + (f" ({f'job {jid}' if jid in mine else ANOTHER})" if many else "")
             for jid, nodes in sorted(idle.items()) if nodes]  # fmt: skip
    own = "it goes only into blocks no other job uses (--exclusive=topo), and " if req.share == "topo" else ""
    return (
        f"{own}idle nodes {'; '.join(shown)} are held for {_holders(jobs, mine)}: the rest of the blocks "
        f"{'they run' if many else 'it runs'} in, which no other job may use while it runs (Slurm's topology/block "
        "shows them BLOCKED, as hal nodes shows them blocked)"
    )


ANOTHER = "another user's job"


def _holders(jobs: list[int], mine: set[int]) -> str:
    """The --exclusive=topo jobs holding blocks, by id when they are the waiting job's user's, else only counted
    (as hal dataset show counts them): the ids of another user's jobs are not the asker's to see (QA: bob was told
    root's job id)."""
    own = [j for j in jobs if j in mine]
    others = len(jobs) - len(own)
    if not own:
        return (
            "another user's --exclusive=topo job" if others == 1 else f"{others} --exclusive=topo jobs of other users"
        )
    named = f"--exclusive=topo job{'s' if len(own) > 1 else ''} {', '.join(map(str, own))}"
    return named + ("" if not others else f" and {ANOTHER}" if others == 1 else f" and {others} jobs of other users")
