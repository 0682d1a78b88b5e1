"""The published OpenAPI schema says what the routes answer (QA: POST /v1/jobs declared only 201 and 422 while a
replay answers 200; no route declared 400, 403, 404 or 503; the 422 body lacked the schema's required "type")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build
from hal.controller.auth import create_token

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def _check(body: Any, schema: dict[str, Any], spec: dict[str, Any]) -> None:
    """Required fields present, recursively through $ref, objects and arrays (enough for these bodies)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    if schema.get("type") == "object":
        assert isinstance(body, dict)
        for key in schema.get("required", []):
            assert key in body, (key, body)
        for key, sub in schema.get("properties", {}).items():
            if key in body:
                _check(body[key], sub, spec)
    elif schema.get("type") == "array":
        assert isinstance(body, list)
        for item in body:
            _check(item, schema.get("items", {}), spec)


def test_answers_match_the_declared_responses(tmp_path: Path) -> None:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {create_token(store, 'carol')}"}
    try:
        with TestClient(app) as client:
            spec = client.get("/openapi.json").json()
            submit = spec["paths"]["/v1/jobs"]["post"]["responses"]
            assert {"200", "201", "400", "404", "413", "422", "503"} <= set(submit), sorted(submit)
            job = {"wrap": "true", "workdir": str(tmp_path), "options": {"hold": True}, "idempotency_key": "k1"}
            first, again = (client.post("/v1/jobs", json=job, headers=auth) for _ in range(2))
            assert (first.status_code, again.status_code) == (201, 200)
            for resp in (
                client.get("/v1/jobs/999999", headers=auth),  # 404
                client.post("/v1/jobs", json={**job, "idempotency_key": None, "options": {"time": "x"}}, headers=auth),
                client.post("/v1/jobs", json={"wrap": 5}, headers=auth),  # 422
            ):
                declared = (
                    submit if resp.request.method == "POST" else spec["paths"]["/v1/jobs/{ref}"]["get"]["responses"]
                )
                code = str(resp.status_code)
                assert code in declared, (code, sorted(declared))
                _check(resp.json(), declared[code]["content"]["application/json"]["schema"], spec)
    finally:
        executor.shutdown()
        store.close()
