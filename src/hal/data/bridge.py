"""Keeps the engine's locality view (engine/plugins/locality.py) in step with the catalog's replicas and the
engine's running jobs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from hal.data.catalog import Catalog, Replica
from hal.engine.plugins.locality import Busy, Locality, busy_of


class LocalityBridge:
    """Listens to the catalog: node-cache replicas become mask bits, ``level=label`` ones storage replicas.

    Locations it cannot place (the "origin", a plain-named mirror, an unknown node) are copies off the tree: the
    engine prices them as the farthest transfer without egress, which is the honest default, beside every other
    copy (a stage-in may read them: hal.data.sources.cheapest_first).
    """

    def __init__(self, catalog: Catalog, locality: Locality, node_names: tuple[str, ...] | list[str]) -> None:
        self.catalog, self.locality = catalog, locality
        self.index = {name: i for i, name in enumerate(node_names)}
        for ds in catalog.datasets.values():
            locality.dataset(ds.name, ds.size)
            for rep in catalog.replicas_of(ds.name):
                self._on("add", rep)
        catalog.listeners.append(self._on)

    def _on(self, what: str, rep: Replica) -> None:
        loc = self.locality
        if rep.dataset not in loc.sizes:
            ds = self.catalog.datasets.get(rep.dataset)
            if ds is None:
                return
            loc.dataset(ds.name, ds.size)
        node = self.index.get(rep.location)
        if node is not None:
            if what == "add":
                loc.add_node_replica(rep.dataset, node)
            else:
                loc.drop_node_replica(rep.dataset, node)
            return
        level, sep, label = rep.location.partition("=")
        where = loc.storage_domain(level, label) if sep else None
        if where is not None and what == "add":
            loc.add_domain_replica(rep.dataset, *where)
        elif where is not None:  # hal dataset rm-copy: the score counted the copy until a restart (QA)
            loc.drop_domain_replica(rep.dataset, *where)
        elif what == "add":
            loc.add_remote_replica(rep.dataset, rep.location)
        else:
            loc.drop_remote_replica(rep.dataset, rep.location)


def running_jobs(controller: Any) -> Callable[[], Iterator[Busy]]:
    """The controller's running jobs as delay scheduling predicts from them (``Locality.running``), read at each
    decision, so a job cancelled, requeued or ended early frees its nodes in the prediction at once, and a
    restart's jobs count."""
    return busy_of(lambda: controller.sched.running.values())
