"""`hal dataset add` refuses the server's own catalog file (QA: it was registered as a dataset; it changes with
every registration, and a cached copy was readable by all while the catalog is its owner's only, its addresses
holding credentials), its lock file, and a folder holding them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.data.places import dataset_uri

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"
Auth = dict[str, str]


@contextlib.contextmanager
def data_server(tmp_path: Path, home: Path, data: str, executor: str = "dev") -> Iterator[tuple[Any, TestClient, Auth]]:
    """A server with a [data] table (``data``'s lines), a dataset 'fine' registered, and its admin's header."""
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\n' + data)
    ctl, app, store, runner = build(ServerOptions(home=home, executor=executor, cluster=cluster))
    auth = {"Authorization": f"Bearer {(home / 'token').read_text().strip()}"}
    (src := tmp_path / "src").mkdir()
    (src / "d1.bin").write_bytes(b"d1\n")
    try:
        with TestClient(app) as client:
            ok = client.post("/v1/datasets", json={"name": "fine", "uri": str(src / "d1.bin")}, headers=auth)
            assert ok.status_code == 201, ok.json()
            yield ctl, client, auth
            assert set(ctl.staging.stager.catalog.datasets) == {"fine"}  # nothing refused was registered
    finally:
        ctl.staging.shutdown()
        runner.shutdown()
        store.close()


def test_dataset_add_refuses_the_servers_catalog_and_its_lock(tmp_path: Path) -> None:
    (state := tmp_path / "state").mkdir()
    catalog = state / "catalog.json"
    with data_server(tmp_path, tmp_path / "home", f'catalog = "{catalog}"\n') as (_ctl, client, auth):
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


def test_dataset_uri_takes_other_files_beside_the_catalog(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    assert dataset_uri(str(tmp_path / "catalog.jsonl"), [], catalog) == ""
    assert dataset_uri("s3://bucket/catalog.json", [], catalog) == ""
    assert dataset_uri(str(catalog), [], None) == ""  # no catalog file given (add-copy's callers before this)
    assert "is the server's catalog file" in dataset_uri(str(tmp_path / "." / "catalog.json"), [], catalog)


def test_dataset_add_and_add_copy_refuse_the_servers_home_and_database(tmp_path: Path) -> None:
    """QA: the admin token, the job-token key and the live database were registered as datasets (any user's job
    then read the token in $HAL_DATA); the home is refused as the catalog is, and so is a folder holding it."""
    home = tmp_path / "state" / "home"
    with data_server(tmp_path, home, "", executor="local") as (_ctl, client, auth):
        assert (home / "job-token.key").exists() and (home / "hal.db").exists() and (home / "spool").is_dir()
        refused = [
            (str(home / "token"), "is inside the server's home"),
            (f"file://{home}/job-token.key", "is inside the server's home"),
            (str(home / "hal.db"), "is inside the server's home"),
            (str(home / "spool"), "is inside the server's home"),
            (str(home), "is the server's home"),
            (str(tmp_path / "state"), "holds the server's home"),
        ]
        for i, (uri, said) in enumerate(refused):
            got = client.post("/v1/datasets", json={"name": f"qa{i}", "uri": uri}, headers=auth)
            assert got.status_code == 400 and said in got.json()["detail"], (uri, got.json())
            assert "admin token" in got.json()["detail"]
        copy = client.post("/v1/datasets/fine/replicas", json={"uri": str(home / "token"), "location": "x"},
                           headers=auth)  # fmt: skip
        assert copy.status_code == 400 and "is inside the server's home" in copy.json()["detail"], copy.json()


def test_a_database_outside_the_home_is_the_servers_too(tmp_path: Path) -> None:
    from hal.data.places import server_places

    db = tmp_path / "db" / "hal.db"
    private = server_places(tmp_path / "home", f"sqlite:///{db}")
    assert "is the server's database" in dataset_uri(str(db), [], None, private)
    assert "is the server's database" in dataset_uri(f"{db}-wal", [], None, private)
    assert dataset_uri(str(tmp_path / "db" / "other.bin"), [], None, private) == ""
    assert dataset_uri("s3://bucket/hal.db", [], None, private) == ""
