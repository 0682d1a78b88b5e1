"""A dataset's stored copies over the API: show one dataset with every replica, register another copy of it (a
mirror in rack or site storage, a bucket in the cloud site), forget one. The catalog held a dataset's origin and
the copies HAL staged into node caches; a copy an administrator already keeps elsewhere had no way in (QA), so
stage-ins crossed the site network or left the cloud for the origin beside a copy next to the job.

A copy is registered only when it is the dataset byte for byte (the server reads it once for its checksum; a
folder dataset's copy, its tree digest: the same files at the same paths), so a stage-in from it is as good as one
from the origin; stage-ins check every copy they read all the same."""

from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from hal.controller.auth import Identity
from hal.data import locations
from hal.data.catalog import CatalogSaveError, Dataset, Replica, checksum_of, public_uri, unreadable
from hal.data.places import dataset_uri


def bad_location(where: str) -> str | None:
    """Why ``where`` cannot name a copy's location (hal/data/locations.py)."""
    return locations.bad_location(where, f"--location {where!r}")


def unknown_domain(topo: Any, where: str) -> str | None:
    """Why ``level=label`` names no domain of the cluster's topology (hal/data/locations.py)."""
    return locations.unknown_domain(topo, where, f"--location {where}")


def replica_kind(location: str, nodes: Collection[str]) -> str:
    """A copy in a node's cache (staged by HAL), the origin, or storage an administrator registered."""
    return "cache" if location in nodes else "origin" if location == "origin" else "storage"


def dataset_address(dataset: Dataset, replicas: Iterable[Replica], nodes: Collection[str]) -> str:
    """The address `hal dataset list` and `show` give: the registered one while a copy is still held there, else
    the first stored copy (origin, then storage by location). After `rm-copy --location origin` the catalog keeps
    the old address in the dataset's record, but HAL no longer reads from it (QA: list showed it, show did not)."""
    held = list(replicas)
    if dataset.uri in {r.uri for r in held}:
        return dataset.uri
    stored = sorted(
        (r for r in held if replica_kind(r.location, nodes) != "cache"),
        key=lambda r: (replica_kind(r.location, nodes), r.location),
    )
    return stored[0].uri if stored else dataset.uri


class ReplicaBody(BaseModel):
    uri: str  # any fsspec URL the server can read
    location: str  # its catalog location: storage as level=label (rack=r1, site=cloud), or a name of the site's


def replica_router(ctl: Any, who_dep: Any, staging: Callable[[], Any], private: Iterable[Path] = ()) -> APIRouter:
    """``staging``: the data plane, or a 409 when the server has none (hal.api.datasets); ``private``: the server's
    home and database (``hal.data.places.server_places``), never a copy."""
    router = APIRouter()
    Who = Annotated[Identity, Depends(who_dep)]

    def catalog_with(name: str) -> Any:
        catalog = staging().stager.catalog
        if name not in catalog.datasets:
            raise HTTPException(404, f"no dataset {name!r} in the catalog")
        return catalog

    def kind(location: str) -> str:
        return replica_kind(location, ctl.table.names)

    @router.get("/v1/datasets/{name}")
    def show_dataset(name: str, who: Who) -> dict[str, Any]:
        shown = (lambda uri: uri) if who.admin else public_uri  # credentials in an address are the server's
        with ctl.lock:
            catalog = catalog_with(name)
            d = catalog.datasets[name]
            replicas = [
                {"location": r.location, "kind": kind(r.location), "uri": shown(r.uri)}
                for r in sorted(catalog.replicas_of(name), key=lambda r: (kind(r.location), r.location))
            ]
            mine = (lambda lv: True) if who.admin else (lambda lv: lv.user == who.user)  # others' jobs: counted
            jobs = list(ctl.live.values())
            using = [(lv, name in lv.spec.inputs) for lv in jobs if name in (*lv.spec.inputs, *lv.spec.outputs)]
            readers = sorted(lv.job_id for lv, reads in using if reads and mine(lv))
            writers = sorted(lv.job_id for lv, reads in using if not reads and mine(lv))
            others = sum(1 for lv, _ in using if not mine(lv))
        uri = shown(dataset_address(d, catalog.replicas_of(name), ctl.table.names))
        return {"name": d.name, "size": d.size, "checksum": d.checksum, "uri": uri, "owner": d.owner,
                "replicas": replicas, "readers": readers, "writers": writers, "others": others}  # fmt: skip

    @router.post("/v1/datasets/{name}/replicas", status_code=201)
    def add_replica(name: str, body: ReplicaBody, who: Who) -> dict[str, Any]:
        if not who.admin:
            raise HTTPException(403, "only admins may register a dataset's copies")
        where = body.location
        if (why := bad_location(where)) is not None:
            raise HTTPException(400, why)
        if where in ctl.table.names:  # a node's cache holds only copies HAL staged and checked there
            raise HTTPException(400, f"--location {where} is a node: its cache holds only copies HAL staged there")
        if (why := unknown_domain(ctl.machine.cluster.topology, where)) is not None:
            raise HTTPException(400, why)
        if "://" not in body.uri and not body.uri.startswith("/"):  # the server's folder is not the client's
            raise HTTPException(400, f"{body.uri!r}: give an absolute path or a URL (e.g. s3://bucket/key)")
        stager = staging().stager  # refused as hal dataset add refuses: caches, memory, the catalog file itself
        if why := dataset_uri(body.uri, [c.root for c in stager.caches.values()], stager.catalog.path, private):
            raise HTTPException(400, f"{why}; register a copy kept in storage")
        with ctl.lock:
            dataset = catalog_with(name).datasets[name]
        try:  # read outside the controller's lock: it may be large
            digest, size = checksum_of(body.uri)
        except Exception as exc:  # a missing file, a backend not installed, a URL of the wrong kind
            raise HTTPException(400, unreadable(body.uri, exc)) from None
        if (digest, size) != (dataset.checksum, dataset.size):
            raise HTTPException(
                409,
                f"{public_uri(body.uri)} is not a copy of dataset {name!r}: {size:,} bytes, {digest[:19]}..., where "
                f"the catalog has {dataset.size:,} bytes, {dataset.checksum[:19]}...",
            )
        with ctl.lock:
            catalog = catalog_with(name)
            if catalog.datasets[name].checksum != digest:  # removed and registered again meanwhile
                raise HTTPException(409, f"dataset {name!r} changed while its copy was read: try again")
            there = {r.location: r for r in catalog.replicas_of(name)}
            if where in there:
                held = public_uri(there[where].uri)
                raise HTTPException(409, f"dataset {name!r} already has a copy at {where} ({held}): remove it first")
            try:
                catalog.add_replica(Replica(name, where, body.uri))
            except CatalogSaveError as exc:
                raise HTTPException(503, f"copy of {name!r} not registered: {exc}") from None
        return {"name": name, "location": where, "uri": body.uri, "kind": kind(where)}

    @router.delete("/v1/datasets/{name}/replicas")
    def remove_replica(name: str, location: str, who: Who) -> dict[str, Any]:
        """Forget a registered copy (its file stays where it is). A node's cached copy goes with `hal dataset rm`
        or eviction, and the last stored copy with the dataset itself."""
        if not who.admin:
            raise HTTPException(403, "only admins may remove a dataset's copies")
        with ctl.lock:
            catalog = catalog_with(name)
            stored = [r.location for r in catalog.replicas_of(name) if kind(r.location) != "cache"]
            if location not in {r.location for r in catalog.replicas_of(name)}:
                raise HTTPException(404, f"dataset {name!r} has no copy at {location}")
            if kind(location) == "cache":
                raise HTTPException(400, f"{location} is a node: its cached copy goes with eviction or hal dataset rm")
            if stored == [location]:
                raise HTTPException(409, f"the only stored copy of {name!r}: hal dataset rm {name} forgets the dataset")
            try:
                catalog.remove_replica(name, location)
            except CatalogSaveError as exc:
                raise HTTPException(503, f"copy of {name!r} not removed: {exc}") from None
        return {"name": name, "removed": location}

    return router
