"""Where datasets, the catalog and outputs may be kept (``hal.data.places``). QA: `hal dataset add` took a file and
a whole folder inside a node cache (`add-copy` refused them), and readers failed "source missing" once they were
evicted; `[data] catalog` and `output_uri` inside a cache folder started without complaint, and the published
output's only origin and the catalog's lock file were evicted; `file://src/d1.bin` (relative to the server's
folder) passed the absolute-path check; `memory://` was taken as an output_uri and lost at a restart."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def _cluster(tmp_path: Path, extra: str = "") -> Path:
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\n{extra}')
    return cluster


def test_dataset_add_refuses_a_cache_file_or_folder_a_relative_file_url_and_process_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=_cluster(tmp_path)))
    admin = (tmp_path / "home" / "token").read_text().strip()
    (tmp_path / "cache" / "vn001" / "s7").write_bytes(b"cached\n")  # a file HAL put there, evicted at will
    monkeypatch.chdir(tmp_path)  # the server's folder: where a relative path leads
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "d1.bin").write_bytes(b"d1\n")
    with fsspec.open("memory://hal-places/d", "wb") as fh:  # the server process's own memory
        fh.write(b"in memory\n")
    refused = [
        (str(tmp_path / "cache" / "vn001" / "s7"), "is in the node cache"),
        (f"file://{tmp_path}/cache/vn001/s7", "is in the node cache"),
        (str(tmp_path / "cache" / "vn001"), "is in the node cache"),
        (str(tmp_path / "cache"), "holds the node cache"),
        ("file://src/d1.bin", "is a relative path"),
        ("memory://hal-places/d", "in the server process's memory"),
        ("simplecache::memory://hal-places/d", "in the server process's memory"),
    ]
    try:
        with TestClient(app) as client:
            auth = {"Authorization": f"Bearer {admin}"}
            for i, (uri, said) in enumerate(refused):
                got = client.post("/v1/datasets", json={"name": f"d{i}", "uri": uri}, headers=auth)
                assert got.status_code == 400 and said in got.json()["detail"], (uri, got.json())
            fine = {"name": "fine", "uri": f"file://{tmp_path}/src/d1.bin"}
            ok = client.post("/v1/datasets", json=fine, headers=auth)
            assert ok.status_code == 201, ok.json()
            assert set(ctl.staging.stager.catalog.datasets) == {"fine"}
    finally:
        ctl.staging.shutdown()
        executor.shutdown()
        store.close()


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ('catalog = "{root}/cache/vn000/catalog.json"\n', "[data] catalog: {root}/cache/vn000/catalog.json is in the"),
        ('output_uri = "{root}/cache/vn001/{{job}}-{{name}}"\n', "[data] output_uri = "),
        ('output_uri = "file://{root}/cache/vn001/{{name}}"\n', "is in the node cache"),
        ('output_uri = "memory://outs/{{job}}/{{name}}"\n', "in the server process's memory"),
    ],
    ids=["catalog", "output_uri", "file-url", "memory"],
)
def test_a_server_does_not_start_with_its_catalog_or_outputs_in_a_node_cache_or_in_memory(
    tmp_path: Path, extra: str, said: str
) -> None:
    cluster = _cluster(tmp_path, extra.format(root=tmp_path))
    with pytest.raises(ValueError) as refused:
        ctl, _app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
        ctl.staging.shutdown()  # the old code started: let go of what it took
        executor.shutdown()
        store.close()
    assert said.format(root=tmp_path) in str(refused.value), refused.value
