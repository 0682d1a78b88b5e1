"""`hal dataset list` and `hal dataset show` give one address for a dataset. QA: after `rm-copy --location origin`
(a mirror being kept), list still gave the forgotten origin's path while show gave the mirror's."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_list_gives_the_address_show_gives_once_the_origin_copy_is_forgotten(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\n')
    origin, mirror = tmp_path / "src" / "weights.bin", tmp_path / "mirror.bin"
    origin.parent.mkdir()
    for path in (origin, mirror):
        path.write_bytes(b"w" * 1000)
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    auth = {"Authorization": f"Bearer {(tmp_path / 'home' / 'token').read_text().strip()}"}
    try:
        with TestClient(app) as client:
            assert client.post("/v1/datasets", json={"name": "weights", "uri": str(origin)}, headers=auth).is_success
            copy = {"uri": str(mirror), "location": "mirror"}
            assert client.post("/v1/datasets/weights/replicas", json=copy, headers=auth).is_success

            def addresses() -> tuple[str, str]:
                listed = client.get("/v1/datasets", headers=auth).json()["datasets"]
                shown = client.get("/v1/datasets/weights", headers=auth).json()
                return next(d["uri"] for d in listed if d["name"] == "weights"), shown["uri"]

            assert addresses() == (str(origin), str(origin))  # the origin is held: it is the address
            gone = client.delete("/v1/datasets/weights/replicas", params={"location": "origin"}, headers=auth)
            assert gone.is_success, gone.json()
            assert addresses() == (str(mirror), str(mirror))  # list gave the forgotten origin
    finally:
        ctl.staging.shutdown()
        executor.shutdown()
        store.close()
