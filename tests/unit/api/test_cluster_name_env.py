"""A job is told its cluster's name in SLURM_CLUSTER_NAME, as Slurm always tells it (it was missing): the name of
the server's cluster file, in lower case as Slurm keeps ClusterName."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    """The name the server sets is the process's: put back what the other tests had."""
    from hal.controller import request_env

    kept = list(getattr(request_env, "_cluster", []))
    yield
    if kept:
        request_env._cluster[:] = kept


@pytest.mark.parametrize(("head", "name"), [('name = "Orion"\n', "orion"), ("", "cluster")])
def test_jobs_are_told_the_cluster_files_name(tmp_path: Path, head: str, name: str) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(head + EXAMPLE.read_text().replace('name = "local"\n', ""))
    ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=cluster))
    auth = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    body = {"script": "#!/bin/sh\ntrue\n", "options": {"hold": True}, "workdir": str(tmp_path),
            "env": {"SLURM_CLUSTER_NAME": "elsewhere"}}  # fmt: skip  # a submitter's, from a job of another cluster
    try:
        with TestClient(app) as client:
            job = client.post("/v1/jobs", json=body, headers=auth).json()["job_id"]
            assert ctl.live[int(job)].request.env["SLURM_CLUSTER_NAME"] == name
    finally:
        executor.shutdown()
        store.close()
