"""The SDK sends the caller's umask with a submission, as `hal submit` (and sbatch) do: jobs submitted through
it wrote their output files with the server's umask."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from hal.client import Client


def _sent(**submit: Any) -> dict[str, str]:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"job_id": 7, "job_ids": [7]})

    c = Client("http://hal.test", "token")
    c._http = httpx.Client(base_url="http://hal.test", transport=httpx.MockTransport(handler))
    c.submit(wrap="true", **submit)
    env: dict[str, str] = bodies[0]["env"]
    return env


def test_the_sdk_sends_the_callers_umask_unless_the_env_sets_one() -> None:
    old = os.umask(0o027)
    try:
        assert _sent() == {"SLURM_UMASK": "0027"}
        mine = {"A": "1"}
        assert _sent(env=mine) == {"A": "1", "SLURM_UMASK": "0027"}
        assert mine == {"A": "1"}  # the caller's dict is left as it was
        assert _sent(env={"SLURM_UMASK": "0002"}) == {"SLURM_UMASK": "0002"}
        assert os.umask(0o027) == 0o027  # read, not changed
    finally:
        os.umask(old)
