"""`hal dataset rm` by a user whose output another user's job reads: told how many such jobs there are, never
their ids or to cancel them (QA: bob was told "read by job 65 ... cancel it", a job he may neither see nor cancel,
while `hal dataset show` counts it only)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.controller.directives import build_request
from hal.data.catalog import Dataset

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_removing_an_output_another_users_job_reads_counts_that_job(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\n')
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    admin = (tmp_path / "home" / "token").read_text().strip()
    (out := tmp_path / "out").mkdir()
    (out / "res1").write_text("x\n")
    catalog = ctl.staging.stager.catalog
    catalog.register(Dataset("res1", 2, "sha256:" + "0" * 64, str(out / "res1"), owner="bob"))
    try:
        with TestClient(app) as client:
            auth = {"Authorization": f"Bearer {admin}"}
            bob = client.post("/v1/tokens", json={"user": "bob"}, headers=auth).json()["token"]
            as_bob = {"Authorization": f"Bearer {bob}"}
            later = {"begin": "now+3600", "input-data": "res1"}
            (theirs,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", later, {}, str(tmp_path), 0), "root").job_ids
            got = client.delete("/v1/datasets/res1", headers=as_bob)
            assert got.status_code == 409, got.json()
            said = got.json()["detail"]
            assert "read by 1 job of another user" in said and f"job {theirs}" not in said and "cancel" not in said, (
                said
            )
            (own,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", later, {}, str(tmp_path), 0), "bob").job_ids
            said = client.delete("/v1/datasets/res1", headers=as_bob).json()["detail"]
            assert f"read by job {own} and 1 job of another user" in said and f"{theirs}," not in said, said
            said = client.delete("/v1/datasets/res1", headers=auth).json()["detail"]  # an admin sees them all
            assert f"read by jobs {theirs}, {own}, which have not ended" in said, said
            assert "res1" in catalog.datasets
    finally:
        ctl.staging.shutdown()
        executor.shutdown()
        store.close()
