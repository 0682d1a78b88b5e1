"""When a job waits for nodes near its data: predicted wait for a data-local placement against the stage-in it saves.

Plain delay scheduling (Zaharia et al.) waits a fixed time for a data-local slot, blind to whether one will
free up. ``DataDelay`` wraps the topology selector and waits only while the time already waited plus the
predicted wait for enough data-local nodes stays below the stage-in seconds a local placement saves over the
best placement available now (plus, optionally, a value per GB kept off the network between racks, for a
site whose core network is the scarce resource), and never past ``max_wait``. With a right prediction the
job's work then starts no later than if it had staged its data elsewhere, and the nodes are not held by
staging; with a wrong one the wait is still bounded by the saving. The prediction comes from the expected
ends of the jobs running on each node (``Locality.running_ends``: the engine's running jobs, live or
simulated), and a node whose jobs' expected ends have passed counts as never freeing (a
prediction proved wrong keeps nobody waiting). Only data-local nodes the job may use now count (its -w/-x, no
drained node). While the job is at the head of the queue its EASY reservation lands on the data-local nodes, so
backfill keeps them for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.nodes import Picked
from hal.engine.plugins.data_local import usable
from hal.engine.plugins.locality import GB, Locality
from hal.engine.plugins.topology import TopoIndex, TopologyArgs, TopologySelector
from hal.engine.request import Request

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DelayPolicy:
    max_wait: float = 1800.0  # never wait longer than this for data
    min_saving: float = 60.0  # wait only when a data-local placement saves at least this many stage-in seconds
    level: int = 1  # data-local: every input within this topology level (0 the node's cache, 1 its rack)
    wide_gb_seconds: float = 0.0  # seconds of waiting worth one GB kept off the site network and the WAN


class DataDelay:
    """A NodeBook selector: the topology selector, with delay scheduling gated by the predicted wait."""

    name = "topology"

    def __init__(self, inner: TopologySelector, locality: Locality, policy: DelayPolicy | None = None) -> None:
        self.inner = inner
        self.locality = locality
        self.policy = policy or DelayPolicy()
        inner.data = locality
        self.waited = 0  # decisions to wait (for reports)
        self.last_saving: float | None = None  # the stage-in seconds the last decision to wait saves: it waits
        # no longer than that (`hal explain` tells it; it said [data] delay, QA), from staging on last_there
        self.last_there: int | None = None  # (where it could start now) against last_here (its best data-local node)
        self.last_here: int | None = None

    @property
    def index(self) -> TopoIndex:
        return self.inner.index

    @property
    def args(self) -> TopologyArgs:
        return self.inner.args

    @property
    def data(self) -> Locality:
        return self.locality

    def why(self, req: Request, room: Ints, units: int) -> str | None:
        return self.inner.why(req, room, units)

    def select(self, req: Request, room: Ints, units: int, now: float) -> Picked | None:
        if not req.inputs or now >= req.submit + self.policy.max_wait:
            return self.inner.select(req, room, units, now)
        pol, secs, c = self.policy, self.locality.stage_seconds(req.inputs), self.locality.node_costs(req.inputs)
        local = self.local_nodes(req)
        held = np.where(local, room, 0)
        if int(held.sum()) >= units:
            return self.inner.select(req, held, units, now)  # data-local nodes are free: take them
        picked = self.inner.select(req, room, units, now)
        if picked is None or not local.any():
            return picked
        there, here = picked[0], int(np.flatnonzero(local)[np.argmin(secs[local])])
        wide = float(c.wide[there].max() - c.wide[here])
        saving = float(secs[there].max() - secs[here]) + pol.wide_gb_seconds * wide / GB
        if saving < pol.min_saving or (now - req.submit) + (self._ready(req, room, units, local, now) - now) > saving:
            return picked
        self.waited += 1
        self.last_saving, self.last_there, self.last_here = saving, int(there[np.argmax(secs[there])]), here
        return None

    def local_nodes(self, req: Request) -> npt.NDArray[np.bool_]:
        """The data-local nodes it may wait for: every input within ``policy.level`` (or as near as the nearest
        node), among the nodes the job may use now (QA: a -x'd or drained node near the data held it)."""
        level = self.locality.node_costs(req.inputs).level
        return (level <= max(self.policy.level, int(level.min()))) & usable(self.index, req)

    def _ready(self, req: Request, room: Ints, units: int, local: npt.NDArray[np.bool_], now: float) -> float:
        """Predicted time at which data-local nodes have room for the request, from the running jobs' expected ends.

        A job on whole nodes needs ``units`` entirely free nodes in one rack (each free at its jobs' last expected
        end; a busy node whose expected ends have all passed, or with no job known, never: its prediction proved
        wrong); a job of tasks needs one node whose room plus the CPUs of the jobs expected to end reaches it.
        """
        ix, ends = self.index, self.locality.running_ends(now)
        if req.nodes:
            free_at = np.full(ix.n, np.inf)
            for node in np.flatnonzero(local).tolist():
                last = max((e for e, _ in ends.get(node, ())), default=now)
                free_at[node] = now if room[node] > 0 else last if last > now else np.inf
            racks = ix.ids[ix.leaf]
            best = np.inf
            for rack in np.unique(racks[local]):
                times = np.sort(free_at[local & (racks == rack)])
                if times.size >= units:
                    best = min(best, float(times[units - 1]))
            return best
        per = max(1, req.per_task[0])
        best = np.inf
        for node in np.flatnonzero(local).tolist():
            have = int(room[node])
            if have >= units:
                return now
            for end, cpus in sorted(e for e in ends.get(node, ()) if e[0] > now):
                if end >= best:
                    break
                have += cpus // per
                if have >= units:
                    best = end
                    break
        return best
