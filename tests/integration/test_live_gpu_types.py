"""Typed GPUs through a real server: --gres=gpu:TYPE:N lands on nodes of that gpu_type, an unknown type is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.integration.livekit import LiveServer, serve_cluster

CLUSTER = """name = "gpus"
[[nodes]]
prefix = "a"
count = 1
cpus = 2
mem = "1G"
gpus = 2
gpu_type = "a100"
[[nodes]]
prefix = "h"
count = 1
cpus = 2
mem = "1G"
gpus = 2
gpu_type = "h100"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "gputypes", CLUSTER)


def test_typed_gpu_requests_land_on_their_type(server: LiveServer) -> None:
    for ask, node in [("--gres=gpu:h100:1", "h000"), ("--gpus=a100:2", "a000"), ("--gres=gpu:h100", "h000")]:
        job = server.cli("submit", "--parsable", ask, "--wrap", "echo $CUDA_VISIBLE_DEVICES", check=True).stdout.strip()
        assert server.cli("wait", job, "--timeout", "60").returncode == 0
        rec = json.loads(server.cli("show", job, "--json", check=True).stdout)
        assert rec["nodelist"] == node, (ask, rec)
    refused = server.cli("submit", "--gres=gpu:v100:1", "--wrap", "true")
    said = " ".join(refused.stderr.split())
    assert refused.returncode != 0 and "has v100 GPUs" in said, said


STEPS = """#!/bin/sh
srun --gres=gpu:h100:1 true; echo other=$?
srun --gpus=h100:1 true; echo wide=$?
srun --gpus-per-task=a100:1 sh -c 'echo own=$CUDA_VISIBLE_DEVICES'
"""


def test_a_step_asking_for_another_gpu_type_is_refused(server: LiveServer) -> None:
    """srun --gres=gpu:h100:1 in a job holding a100 GPUs ran on them silently; Slurm refuses the step."""
    (server.work / "steps.sh").write_text(STEPS)
    job = server.cli("submit", "--parsable", "--gres=gpu:a100:1", "-o", "steps.out", "steps.sh", check=True)
    assert server.cli("wait", job.stdout.strip(), "--timeout", "60").returncode == 0
    text = (server.work / "steps.out").read_text()
    said = " ".join(text.split())
    assert "other=2" in text.splitlines() and "own=0" in text.splitlines(), text
    assert "wide=2" in text.splitlines(), text  # srun --gpus=h100:1 ran on the a100s, noted only
    assert "requested GPU type not available in the allocation (the job holds 1 a100 GPU(s) on node a000" in said
