"""A job is told its cluster's name in SLURM_CLUSTER_NAME, as Slurm always tells it (it was missing): the name of
the cluster file it runs on, lower-cased as Slurm keeps ClusterName, whatever the submitter exported."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.mark.parametrize(("head", "name"), [('name = "Orion"\n', "orion"), ("", "cluster")])
def test_a_running_job_is_told_the_cluster_files_name(tmp_path: Path, head: str, name: str) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(head + EXAMPLE.read_text().replace('name = "local"\n', ""))
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    auth = {"Authorization": f"Bearer {(tmp_path / 'home' / 'token').read_text().strip()}"}
    body = {
        "script": "#!/bin/sh\necho \"$SLURM_CLUSTER_NAME\" > told\n", "options": {}, "workdir": str(tmp_path),
        "env": {"SLURM_CLUSTER_NAME": "elsewhere"},  # a submitter's, from a job of another cluster
    }  # fmt: skip
    try:
        with TestClient(app) as client:
            assert client.post("/v1/jobs", json=body, headers=auth).status_code in (200, 201)
            told = tmp_path / "told"
            deadline = time.monotonic() + 30
            while not (told.exists() and told.read_text()) and time.monotonic() < deadline:
                ctl.run_cycle()  # no server loop here: the test turns it
                time.sleep(0.05)
            assert told.read_text() == f"{name}\n"
    finally:
        executor.shutdown()
        store.close()
