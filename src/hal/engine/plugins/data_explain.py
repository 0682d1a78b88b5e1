"""Delay scheduling in words (reason DataLocality): how long it holds a job, what bounds that, and which data-local
nodes it waits for and when they are expected to free. placement_explain re-exports these for its callers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from hal.engine.nodes import NodeBook
from hal.engine.plugins.data_local import usable
from hal.engine.plugins.locality import Locality
from hal.engine.plugins.topology import TopologySelector
from hal.engine.request import Request


def at(t: float) -> str:
    """An engine time as `hal show` prints times (the live engine's clock is the epoch); a trace's clock, which
    starts near 0 in `hal explain --trace` what-ifs, as seconds (it printed 1970 dates, review)."""
    return datetime.fromtimestamp(t).strftime("%Y-%m-%dT%H:%M:%S") if t >= 946684800 else f"t={t:,.0f} s"


def data_delay_of(book: NodeBook) -> float:
    """The longest delay scheduling holds a job: [data] delay, or the gated policy's max_wait."""
    sel = book.select
    inner = getattr(sel, "inner", sel)
    if sel is inner:
        return float(getattr(getattr(inner, "args", None), "data_delay", 0.0))
    return float(getattr(getattr(sel, "policy", None), "max_wait", 0.0))


def data_hold(book: NodeBook, req: Request) -> float | None:
    """The latest time delay scheduling holds ``req`` for nodes holding its --input-data, when that hold alone
    keeps it from starting now (it fits elsewhere); None otherwise. Reason DataLocality rests on it, asked of
    every pending job a listing shows: the cheap tests come first, and only a job with inputs, under a data
    delay and within it, costs the two placement searches. The selector keeps what bounded the hold (its
    ``last_*``), which ``held_for_data`` tells."""
    sel = book.select
    inner = getattr(sel, "inner", sel)
    if not req.inputs or not isinstance(inner, TopologySelector) or inner.data is None:
        return None
    delay = data_delay_of(book)
    if delay <= 0 or book.now >= req.submit + delay:
        return None
    saved, waited = inner.args, getattr(sel, "waited", None)
    inner.last_budget = inner.last_there = None  # set again if the hold below is the stage-time budget's
    if sel is not inner:
        sel.last_saving = sel.last_there = sel.last_here = None  # type: ignore[union-attr]  # DataDelay's, below
    try:
        if book.fits(req):  # it starts at the next pass: nothing holds it
            return None
        budget = inner.last_budget if sel is inner else getattr(sel, "last_saving", None)
        inner.args, book.select = replace(saved, data_delay=0.0), inner  # would it start now without the hold?
        free = book.fits(req)
    finally:
        inner.args, book.select = saved, sel
        if waited is not None:  # DataDelay counts its decisions to wait: asking is not one
            sel.waited = waited  # type: ignore[union-attr]
    return req.submit + (delay if budget is None else min(delay, budget)) if free else None


def held_for_data(book: NodeBook, req: Request) -> str | None:
    """In words, delay scheduling holding a job that would start now elsewhere: the data-local nodes it waits for
    and when they are expected to free, until when, and the bound on that wait with its numbers: seconds of staging
    plus egress priced in seconds (QA: it said "never longer than staging them takes" of a 278 s wait whose staging
    took 8 s, the rest egress). None: not so held."""
    until = data_hold(book, req)
    sel = book.select
    inner = getattr(sel, "inner", sel)
    if until is None or not isinstance(inner, TopologySelector) or not isinstance(inner.data, Locality):
        return None
    loc, delay = inner.data, data_delay_of(book)
    gated = sel is not inner
    local = sel.local_nodes(req) if gated else inner.data.normalized(req.inputs)[1] & usable(inner.index, req)  # type: ignore[union-attr]
    names = book.table.names
    head = f"delay scheduling holds it for nodes holding its --input-data ({', '.join(req.inputs)}) that it may use"
    head += f": {_nodes(book, loc, local)}; until {at(until)} at the latest"
    if gated:
        saving, there, here = sel.last_saving, sel.last_there, sel.last_here  # type: ignore[union-attr]
        bound = f"the stage-in it saves, {saving or 0:,.0f} s" + (
            f": on {names[there]}, where it could start now, {_cost(loc, req, there)}, against {_cost(loc, req, here)}"
            f" on {names[here]}" if there is not None and here is not None else ""
        )  # fmt: skip
    else:
        there = inner.last_there
        bound = "staging them where it could start now costs" + (
            f", on {names[there]}: {_cost(loc, req, there)}" if there is not None else ""
        )
    limit = "max_wait" if gated else "delay"
    if until < req.submit + delay:
        return f"{head}: as long as {bound} ([data] {limit} is longer)"
    return f"{head} ([data] {limit}), never longer than {bound}"


def _cost(loc: Locality, req: Request, node: int) -> str:
    """What staging the inputs on ``node`` costs, as the score adds it: seconds plus egress priced in seconds."""
    c, rate = loc.node_costs(req.inputs), loc.model.dollars_per_hour
    secs, dollars = float(c.seconds[node]), float(c.dollars[node])
    if dollars <= 0:
        return f"{secs:,.2f} s of transfer"
    priced = dollars * 3600.0 / rate
    return (
        f"{secs:,.2f} s of transfer plus ${dollars:,.2f} of egress priced at {priced:,.0f} s ([data] dollars_per_hour"
        f" = {rate:g}): {secs + priced:,.0f} s"
    )


def _nodes(book: NodeBook, loc: Locality, local: npt.NDArray[np.bool_]) -> str:
    """The data-local nodes a job waits for, each with when its running jobs are expected to end."""
    now, ends = book.now, loc.running_ends(book.now)
    said = []
    for node in np.flatnonzero(local).tolist()[:4]:
        last = max((e for e, _ in ends.get(node, ())), default=None)
        when = (
            "no running job known" if last is None
            else f"its jobs expected to end by {at(last)}" if last > now
            else "its jobs past their expected ends"
        )  # fmt: skip
        said.append(f"{book.table.names[node]} ({when})")
    more = int(local.sum()) - len(said)
    return ", ".join(said) + (f" and {more} more" if more > 0 else "")
