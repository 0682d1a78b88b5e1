"""The API's guards: loopback-only by default, a bearer token on every call, admins-only token creation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.server import BindRefused, ServerOptions, build, check_bind
from hal.controller.auth import create_token

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_is_allowed(host: str) -> None:
    check_bind(ServerOptions(host=host))


def test_other_addresses_need_tls_or_an_explicit_flag() -> None:
    with pytest.raises(BindRefused, match="--tls-cert"):
        check_bind(ServerOptions(host="0.0.0.0"))
    check_bind(ServerOptions(host="0.0.0.0", allow_insecure_remote=True))
    check_bind(ServerOptions(host="0.0.0.0", tls_cert=Path("c.pem"), tls_key=Path("k.pem")))


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, str, str]]:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    admin = (tmp_path / "token").read_text().strip()
    user = create_token(store, "carol")
    with TestClient(app) as client:
        yield client, admin, user
    executor.shutdown()
    store.close()


def test_every_call_needs_a_token(api: tuple[TestClient, str, str]) -> None:
    client, _admin, user = api
    for method, path in [("GET", "/v1/jobs"), ("POST", "/v1/jobs"), ("GET", "/v1/nodes"), ("GET", "/metrics"),
                         ("DELETE", "/v1/jobs/1"), ("GET", "/v1/queue/summary"), ("POST", "/v1/tokens")]:  # fmt: skip
        resp = client.request(method, path)
        assert resp.status_code == 401, (method, path)
        assert resp.headers["www-authenticate"] == "Bearer"
    assert client.get("/health").status_code == 200
    assert client.get("/v1/whoami", headers={"Authorization": f"Bearer {user}"}).json() == {
        "user": "carol",
        "admin": False,
    }


def test_a_body_without_a_valid_token_is_refused_unread(api: tuple[TestClient, str, str]) -> None:
    """QA: FastAPI parsed a body before checking the token (a malformed one was 422, not 401), so anyone could make
    the server hold many bodies of up to 64 MiB at once. Now 401 before a byte of it is read, and closed."""
    client, _admin, user = api
    for auth in ({}, {"Authorization": "Bearer hal_nosuchtoken"}, {"Authorization": f"Basic {user}"}):
        for route in ("/v1/jobs", "/v1/tokens", "/v1/datasets", "/v1/apps"):
            resp = client.post(route, content=b"not json", headers=auth)
            assert resp.status_code == 401 and resp.headers["connection"] == "close", (route, auth, resp.text)
            assert resp.json() == {"detail": "a valid bearer token is required"}
    resp = client.post("/v1/jobs", content=b"not json", headers={"Authorization": f"Bearer {user}"})
    assert resp.status_code == 422  # a valid token: the body is read, and refused for what it is


def test_only_admins_create_tokens(api: tuple[TestClient, str, str]) -> None:
    client, admin, user = api
    body = {"user": "dave"}
    assert client.post("/v1/tokens", json=body, headers={"Authorization": f"Bearer {user}"}).status_code == 403
    resp = client.post("/v1/tokens", json=body, headers={"Authorization": f"Bearer {admin}"})
    assert resp.status_code == 201 and resp.json()["token"].startswith("hal_")
    bad = client.post("/v1/tokens", json={"user": "no spaces"}, headers={"Authorization": f"Bearer {admin}"})
    assert bad.status_code == 400


def test_an_output_being_staged_out_shows_as_staging(tmp_path: Path) -> None:
    """`hal show` printed StageOut=NAME:not staged while the copy was under way (only settled ones are events)."""
    import threading

    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\n'
                       f'catalog = "{tmp_path}/catalog.json"\n')  # fmt: skip
    ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    admin = (tmp_path / "home" / "token").read_text().strip()
    outputs = ctl.staging.outputs
    release = threading.Event()
    real_copy = outputs._copy
    outputs._copy = lambda *a: (release.wait(30), real_copy(*a))  # type: ignore[method-assign]
    ctl.start()
    try:
        with TestClient(app) as client:
            auth = {"Authorization": f"Bearer {admin}"}
            body = {"script": '#!/bin/sh\necho x > "$HAL_DATA/res"\n', "options": {"output-data": "res"}}
            job = client.post("/v1/jobs", json={**body, "workdir": str(tmp_path)}, headers=auth).json()["job_id"]
            for _ in range(300):
                rec = client.get(f"/v1/jobs/{job}", headers=auth).json()
                if rec["state"] == "STAGE_OUT":
                    break
                threading.Event().wait(0.05)
            assert rec["state"] == "STAGE_OUT" and rec["stage_out"] == {"res": "staging"}, rec
            release.set()
            assert outputs.wait(30.0)
            rec = client.get(f"/v1/jobs/{job}", headers=auth).json()
            assert rec["stage_out"]["res"].startswith("done") and rec["state"] == "COMPLETED"
    finally:
        release.set()
        ctl.stop()
        ctl.staging.shutdown()
        executor.shutdown()
        store.close()


def test_huge_numbers_are_refused_not_server_errors(api: tuple[TestClient, str, str]) -> None:
    """QA: -c 99999999999999999999 (and --mem, --ntasks, gpu counts) overflowed 64-bit arrays: HTTP 500."""
    client, _admin, user = api
    auth = {"Authorization": f"Bearer {user}"}
    big = "99999999999999999999"
    for options, said in [
        ({"cpus-per-task": big}, "too large"), ({"mem": big}, "too large"), ({"ntasks": big}, "too large"),
        ({"mem-per-cpu": big}, "too large"), ({"gres": f"gpu:{big}"}, "too many GPUs"), ({"nodes": "-1"}, ">= 1"),
        ({"time": big}, "more than 100 years"), ({"begin": f"now+{big}"}, "more than 100 years ahead"),
        ({"nice": big}, "too large"),
    ]:  # fmt: skip
        resp = client.post("/v1/jobs", json={"wrap": "true", "options": options, "workdir": "/tmp"}, headers=auth)
        assert resp.status_code == 400 and said in resp.json()["detail"], (options, resp.text)


def test_an_environment_no_process_could_start_with_is_refused(api: tuple[TestClient, str, str]) -> None:
    """QA: a 10 MB environment was accepted (and stored with each array task), then failed at launch with E2BIG."""
    client, _admin, user = api
    auth = {"Authorization": f"Bearer {user}"}
    for env, said in [
        ({"BIG": "x" * 200_000}, "at most 128 KiB"),
        ({f"V{i}": "y" * 100_000 for i in range(12)}, "--export"),
    ]:
        resp = client.post("/v1/jobs", json={"wrap": "true", "env": env, "workdir": "/tmp"}, headers=auth)
        assert resp.status_code == 400 and said in resp.json()["detail"], resp.text
    ok = client.post("/v1/jobs", json={"wrap": "true", "env": {"A": "b" * 50_000}, "workdir": "/tmp"}, headers=auth)
    assert ok.status_code == 201


def test_unknown_fields_are_refused_and_cancels_come_in_bulk(api: tuple[TestClient, str, str]) -> None:
    client, _admin, user = api
    auth = {"Authorization": f"Bearer {user}"}
    typo = client.post("/v1/jobs", json={"wrap": "true", "option": {"time": "5"}, "workdir": "/tmp"}, headers=auth)
    assert typo.status_code == 422 and "option" in typo.text  # it submitted with every default
    ids = [
        str(
            client.post("/v1/jobs", json={"wrap": "sleep 60", "options": {"hold": True}}, headers=auth).json()["job_id"]
        )
        for _ in range(3)
    ]
    got = client.post("/v1/jobs/cancel", json={"jobs": [*ids, "99999"]}, headers=auth).json()
    assert got == {"cancelled": {i: [int(i)] for i in ids}, "failed": {"99999": "no job 99999"}}  # not 'ended'
    admins = client.post(
        "/v1/jobs", json={"wrap": "true", "options": {"hold": True}}, headers={"Authorization": f"Bearer {_admin}"}
    )
    mixed = [
        *(
            str(
                client.post("/v1/jobs", json={"wrap": "true", "options": {"hold": True}}, headers=auth).json()["job_id"]
            )
            for _ in range(2)
        )
    ]
    theirs = str(admins.json()["job_id"])
    got = client.post("/v1/jobs/cancel", json={"jobs": [mixed[0], theirs, mixed[1]]}, headers=auth).json()
    assert set(got["cancelled"]) == set(mixed) and "another user" in got["failed"][theirs]  # QA: 403, third kept
    nan = client.post(
        "/v1/jobs",
        content=b'{"wrap": "true", "options": {"time": NaN}}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert nan.status_code == 422  # its error answer held the NaN and became a 500
