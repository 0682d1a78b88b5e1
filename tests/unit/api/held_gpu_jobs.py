"""A real API over a 4-node GPU cluster with one held job per request shape: the set-up the TRES field tests share
(tres-per-node, tres-per-job/per-task, and how a job asked for its GPUs)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

CLUSTER = """name = "gpus"
[[nodes]]
prefix = "g"
count = 4
cpus = 32
mem = "64G"
gpus = 8
gpu_type = "h100"
"""

Asks = dict[str, tuple[dict[str, Any], dict[str, str] | None]]  # name: (sbatch options, submitter's environment)


@contextlib.contextmanager
def held_jobs(tmp_path: Path, asks: Asks) -> Iterator[tuple[TestClient, dict[str, str], dict[str, int]]]:
    """The client, its auth header and each shape's job id (held, so none starts)."""
    cluster = tmp_path / "gpus.toml"
    cluster.write_text(CLUSTER)
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    auth = {"Authorization": f"Bearer {(tmp_path / 'home' / 'token').read_text().strip()}"}
    try:
        with TestClient(app) as client:
            ids = {}
            for name, (options, env) in asks.items():
                body: dict[str, Any] = {"wrap": "true", "options": {**options, "hold": True}, "workdir": str(tmp_path)}
                if env is not None:
                    body["env"] = env
                resp = client.post("/v1/jobs", json=body, headers=auth)
                assert resp.status_code == 201, (name, resp.text)
                ids[name] = resp.json()["job_id"]
            yield client, auth, ids
    finally:
        executor.shutdown()
        store.close()
