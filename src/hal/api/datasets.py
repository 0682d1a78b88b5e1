"""The data plane's catalog over the API: list datasets and their replicas; register one (admins). The running
server owns the catalog file, so datasets are added here (`hal dataset add`) rather than by editing it."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from hal.controller.auth import Identity
from hal.data.catalog import Dataset, checksum_of

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # a file name in the node caches, as --input-data takes it


class DatasetBody(BaseModel):
    name: str
    uri: str  # any fsspec URL the server can read
    location: str = "origin"  # the catalog location of this replica


def dataset_router(ctl: Any, who_dep: Any) -> APIRouter:
    """``who_dep``: the app's identity dependency (annotations here are evaluated now, in this scope)."""
    router = APIRouter()
    Who = Annotated[Identity, Depends(who_dep)]

    def staging() -> Any:
        if ctl.staging is None:
            raise HTTPException(409, "this server has no data plane: a [data] table in the cluster file turns it on")
        return ctl.staging

    @router.get("/v1/datasets")
    def list_datasets(who: Who) -> dict[str, Any]:
        catalog = staging().stager.catalog
        with ctl.lock:
            rows = [
                {"name": d.name, "size": d.size, "checksum": d.checksum, "uri": d.uri,
                 "replicas": sorted(r.location for r in catalog.replicas_of(d.name))}
                for d in sorted(catalog.datasets.values(), key=lambda d: d.name)
            ]  # fmt: skip
        return {"datasets": rows}

    @router.post("/v1/datasets", status_code=201)
    def add_dataset(body: DatasetBody, who: Who) -> dict[str, Any]:
        if not who.admin:
            raise HTTPException(403, "only admins may register datasets")
        if not NAME.fullmatch(body.name):
            raise HTTPException(400, f"{body.name!r}: a dataset name is letters, digits, '_', '-' and '.' (not first)")
        catalog = staging().stager.catalog
        if body.name in catalog.datasets:  # a new version would leave stale copies in node caches
            raise HTTPException(409, f"the catalog already has a dataset {body.name!r}")
        try:  # read (and checksum) the file outside the controller's lock: it may be large
            digest, size = checksum_of(body.uri)
        except (OSError, ValueError) as exc:
            raise HTTPException(400, f"cannot read {body.uri}: {exc}") from None
        with ctl.lock:
            if body.name in catalog.datasets:
                raise HTTPException(409, f"the catalog already has a dataset {body.name!r}")
            dataset = catalog.register(Dataset(body.name, size, digest, body.uri), body.location)
        return {"name": dataset.name, "size": dataset.size, "checksum": dataset.checksum, "uri": dataset.uri}

    return router
