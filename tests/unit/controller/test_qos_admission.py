"""QOS names: only the ones the cluster has are accepted, at submission and at `hal update` (QA: --qos nosuch was
stored and shown as QOS=nosuch; sbatch refuses it with "Invalid qos specification")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.controller.admission import QOS_NAMES, admit_qos
from hal.controller.auth import create_token
from hal.controller.contracts import SubmitError
from hal.controller.directives import build_request

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.mark.parametrize("asked", ["nosuch", "high", "normal,high"])
def test_an_unknown_qos_is_refused_naming_the_known_ones(asked: str) -> None:
    req = build_request("#!/bin/sh\ntrue\n", {"qos": asked}, {}, "/", 0.0)
    with pytest.raises(SubmitError, match=rf"invalid qos specification '{asked}': known QOS: normal"):
        admit_qos(req)


def test_the_default_qos_in_any_case_or_none_given_is_normal() -> None:
    assert QOS_NAMES == ("normal",)  # Slurm with no QOS configured: only its default
    for asked in ("normal", "Normal", " NORMAL ", ""):
        req = build_request("#!/bin/sh\ntrue\n", {"qos": asked}, {}, "/", 0.0)
        admit_qos(req)
        assert req.qos == "normal" and req.env["SLURM_JOB_QOS"] == "normal", asked


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    admin = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    user = {"Authorization": f"Bearer {create_token(store, 'carol')}"}
    with TestClient(app) as client:
        yield client, admin, user
    executor.shutdown()
    store.close()


def test_submission_and_update_refuse_an_unknown_qos(api: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, admin, user = api
    for who, qos in ((user, "nosuch"), (user, "high"), (admin, "high")):  # no QOS but normal, for anyone
        resp = client.post("/v1/jobs", json={"wrap": "true", "options": {"qos": qos}, "workdir": "/tmp"}, headers=who)
        assert resp.status_code == 400, resp.text
        assert resp.json()["detail"] == f"invalid qos specification '{qos}': known QOS: normal (HAL defines no others)"
    test_only = {"wrap": "true", "options": {"qos": "nosuch", "test-only": True}, "workdir": "/tmp"}
    assert client.post("/v1/jobs", json=test_only, headers=user).status_code == 400
    body = {"wrap": "sleep 60", "options": {"qos": "Normal", "hold": True}, "workdir": "/tmp"}
    job = client.post("/v1/jobs", json=body, headers=user).json()["job_id"]
    assert client.get(f"/v1/jobs/{job}", headers=user).json()["qos"] == "normal"
    bad = client.post(f"/v1/jobs/{job}/update", json={"fields": {"QOS": "high"}}, headers=user)
    assert bad.status_code == 400 and "job " in bad.json()["detail"]
    assert "invalid qos specification 'high': known QOS: normal" in bad.json()["detail"]
    assert client.get(f"/v1/jobs/{job}", headers=user).json()["qos"] == "normal"  # a refused update changes nothing
    ok = client.post(f"/v1/jobs/{job}/update", json={"fields": {"QOS": "normal"}}, headers=user)
    assert ok.status_code == 200, ok.text
