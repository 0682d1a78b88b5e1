"""`hal dataset add` refuses the server's own catalog file (QA: it was registered as a dataset; it changes with
every registration, and a cached copy was readable by all while the catalog is its owner's only, its addresses
holding credentials), its lock file, and a folder holding them."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.data.places import dataset_uri

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_dataset_add_refuses_the_servers_catalog_and_its_lock(tmp_path: Path) -> None:
    (state := tmp_path / "state").mkdir()
    catalog = state / "catalog.json"
    cluster = tmp_path / "c.toml"
    data = f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\ncatalog = "{catalog}"\n'
    cluster.write_text(EXAMPLE.read_text() + data)
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    admin = (tmp_path / "home" / "token").read_text().strip()
    (src := tmp_path / "src").mkdir()
    (src / "d1.bin").write_bytes(b"d1\n")
    try:
        with TestClient(app) as client:
            auth = {"Authorization": f"Bearer {admin}"}
            ok = client.post("/v1/datasets", json={"name": "fine", "uri": str(src / "d1.bin")}, headers=auth)
            assert ok.status_code == 201, ok.json()
            assert catalog.exists() and catalog.with_name("catalog.json.lock").exists()
            refused = [
                (str(catalog), "is the server's catalog file"),
                (f"file://{catalog}", "is the server's catalog file"),
                (f"{catalog}.lock", "is the server's catalog file"),
                (str(state), "holds the server's catalog file"),
            ]
            for i, (uri, said) in enumerate(refused):
                got = client.post("/v1/datasets", json={"name": f"qa{i}", "uri": uri}, headers=auth)
                assert got.status_code == 400 and said in got.json()["detail"], (uri, got.json())
            assert set(ctl.staging.stager.catalog.datasets) == {"fine"}
    finally:
        ctl.staging.shutdown()
        executor.shutdown()
        store.close()


def test_dataset_uri_takes_other_files_beside_the_catalog(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    assert dataset_uri(str(tmp_path / "catalog.jsonl"), [], catalog) == ""
    assert dataset_uri("s3://bucket/catalog.json", [], catalog) == ""
    assert dataset_uri(str(catalog), [], None) == ""  # no catalog file given (add-copy's callers before this)
    assert "is the server's catalog file" in dataset_uri(str(tmp_path / "." / "catalog.json"), [], catalog)
