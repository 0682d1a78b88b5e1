"""The data plane's catalog over the API: list datasets and their replicas; register one (admins). The running
server owns the catalog file, so datasets are added here (`hal dataset add`) rather than by editing it."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from hal.api.replicas import bad_location, dataset_address, replica_router
from hal.controller.auth import Identity
from hal.data.catalog import (
    MAX_NAME,
    NAME,
    NAME_RULE,
    CatalogSaveError,
    Dataset,
    checksum_of,
    public_uri,
    read_by,
    unreadable,
)
from hal.data.kept_discard import NotKept, discard_kept
from hal.data.owner import owner_home
from hal.data.places import dataset_uri, server_places


class DatasetBody(BaseModel):
    name: str
    uri: str  # any fsspec URL the server can read
    location: str = "origin"  # the catalog location of this replica


def dataset_router(ctl: Any, who_dep: Any, home: Path | None = None) -> APIRouter:
    """``who_dep``: the app's identity dependency (annotations here are evaluated now, in this scope); ``home``:
    the server's home, never registered (nor its database): None, the folder its spool or database is in."""
    router = APIRouter()
    Who = Annotated[Identity, Depends(who_dep)]
    found = owner_home(ctl)
    home = home if home is not None else Path(found) if found != "?" else None
    private = server_places(home, str(getattr(ctl.store, "url", "")))

    def _taken(name: str) -> str | None:
        """Why a name cannot be registered: it exists (a new version would leave stale copies in node caches),
        or a queued or running job will write it as its output."""
        if name in staging().stager.catalog.datasets:
            return f"the catalog already has a dataset {name!r}"
        writers = [lv for lv in list(ctl.live.values()) if name in lv.spec.outputs]
        if writers:  # only admins register datasets: they may see whose job it is
            lv = writers[0]
            return (
                f"job {lv.job_id} (user {lv.user}, {lv.state.lower()}) will write {name!r} (its --output-data); "
                "cancel it or let it publish the dataset"
            )
        outputs = staging().outputs
        if outputs is not None and outputs.in_flight([name]):
            return f"an ended job's output {name!r} is being staged out"
        return None

    def staging() -> Any:
        if ctl.staging is None:
            raise HTTPException(409, "this server has no data plane: a [data] table in the cluster file turns it on")
        return ctl.staging

    @router.get("/v1/datasets")
    def list_datasets(who: Who) -> dict[str, Any]:
        catalog = staging().stager.catalog
        shown = (lambda uri: uri) if who.admin else public_uri  # credentials in an address are the server's
        with ctl.lock:
            rows = [
                {"name": d.name, "size": d.size, "checksum": d.checksum, "owner": d.owner,
                 "uri": shown(dataset_address(d, catalog.replicas_of(d.name), ctl.table.names)),
                 "replicas": sorted(r.location for r in catalog.replicas_of(d.name))}
                for d in sorted(catalog.datasets.values(), key=lambda d: d.name)
            ]  # fmt: skip
        return {"datasets": rows}

    @router.post("/v1/datasets", status_code=201)
    def add_dataset(body: DatasetBody, who: Who) -> dict[str, Any]:
        if not who.admin:
            raise HTTPException(403, "only admins may register datasets")
        if not NAME.fullmatch(body.name) or len(body.name) > MAX_NAME:
            raise HTTPException(400, f"{body.name[:40]!r}: {NAME_RULE}")
        if (why := bad_location(body.location)) is not None:  # origin, rack=r1, site=cloud
            raise HTTPException(400, why)
        if body.location in ctl.table.names:  # a node's cache replica is a file HAL staged there, not this one
            raise HTTPException(
                400,
                f"--location {body.location} is a node: its cache holds only copies HAL staged and checked; register "
                "the file where it is stored (origin, or a storage location such as rack=r1 or site=onprem)",
            )
        if "://" not in body.uri and not body.uri.startswith("/"):  # the server's folder is not the client's
            raise HTTPException(400, f"{body.uri!r}: give an absolute path or a URL (e.g. s3://bucket/key)")
        stager = staging().stager
        if why := dataset_uri(body.uri, [c.root for c in stager.caches.values()], stager.catalog.path, private):
            raise HTTPException(400, why)  # file://rel, memory://, a cache's file (evicted), the catalog, the home
        catalog = staging().stager.catalog
        taken = _taken(body.name)
        if taken:
            raise HTTPException(409, taken)
        try:  # read (and checksum) the file or folder outside the controller's lock: it may be large
            digest, size = checksum_of(body.uri)
        except Exception as exc:  # a missing file, a backend not installed, a URL of the wrong kind
            raise HTTPException(400, unreadable(body.uri, exc)) from None
        with ctl.lock:
            taken = _taken(body.name)
            if taken:
                raise HTTPException(409, taken)
            try:
                dataset = catalog.register(Dataset(body.name, size, digest, body.uri), body.location)
            except CatalogSaveError as exc:  # a full disk, a read-only folder: nothing was registered
                raise HTTPException(503, f"dataset {body.name!r} not registered: {exc}") from None
        got = {"name": dataset.name, "size": dataset.size, "checksum": dataset.checksum, "uri": dataset.uri}
        largest = staging().stager.largest_cache()
        if size > largest:  # registered (a larger cache may come), but no job can read it now: said at once
            got["warning"] = (
                f"{size:,} bytes is more than any node cache holds ({largest:,}): jobs reading it are refused"
            )
        return got

    @router.delete("/v1/datasets/{name}")
    def remove_dataset(name: str, who: Who) -> dict[str, Any]:
        """Forget a dataset (admins, or the user whose job wrote it: a pipeline run again writes it again), e.g.
        to register a changed file under its name again: its cached copies are deleted (its origin copy stays).
        Refused while a queued or running job reads it (it would fail at stage-in)."""
        stager = staging().stager
        with ctl.lock:
            if name not in stager.catalog.datasets:
                raise HTTPException(404, f"no dataset {name!r} in the catalog")
            if not who.admin and stager.catalog.datasets[name].owner != who.user:
                raise HTTPException(403, "only admins, or the user whose job wrote it, may remove a dataset")
            reading = [lv for lv in ctl.live.values() if name in lv.spec.inputs]
            readers = sorted(lv.job_id for lv in reading if who.may_see(lv.user))
            if reading:  # another user's jobs counted, not named (as hal dataset show does)
                raise HTTPException(409, read_by(name, readers, len(reading) - len(readers)))
            try:  # the catalog first: when it cannot be saved, the dataset and its cached copies stay as they were
                stager.catalog.forget(name)
            except CatalogSaveError as exc:
                raise HTTPException(503, f"dataset {name!r} not removed: {exc}") from None
            for cache in stager.caches.values():
                cache.drop(name)
        return {"removed": name}

    @router.delete("/v1/jobs/{ref}/kept-outputs")
    def remove_kept(ref: str, who: Who) -> dict[str, Any]:
        """Remove an ended job's failed outputs kept in node caches now, not at keep_failed_outputs' end (the job's
        user or admins): their room goes to waiting jobs. Each job of an array on its own."""
        data = staging()
        ids = ctl.resolve(ref)
        rows = [r for r in ctl.store.query(job_ids=ids) if r]
        if not rows:
            raise HTTPException(404, f"no job {ref}")
        if any(not who.may_see(r["user"]) for r in rows):
            raise HTTPException(403, f"job {ref} belongs to another user; only its user or admins remove its outputs")
        removed: dict[str, list[str]] = {}
        why: dict[str, str] = {}
        for row in rows:
            try:
                removed[str(row["id"])] = discard_kept(data, ctl, int(row["id"]), who.user)
            except NotKept as exc:
                why[str(row["id"])] = str(exc)
        if not removed:
            raise HTTPException(409, next(iter(why.values())))
        return {"removed": removed, "not_removed": why}

    router.include_router(replica_router(ctl, who_dep, staging, private))  # one dataset, its stored copies
    return router
