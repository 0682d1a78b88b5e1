"""Concurrent srun steps in a live job get GPUs of their own (QA: four `srun -n1 --gpus-per-task=1 ... &` all
printed CVD=0), and every vendor's GPU variable names the job's GPUs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.livekit import LiveServer, serve_cluster

CLUSTER = """name = "gpuc"
[[nodes]]
prefix = "h"
count = 1
cpus = 4
mem = "2G"
gpus = 8
gpu_type = "h100"
"""

STEPS = """#!/bin/bash
env | grep -E '^(CUDA_VIS|ROCR|GPU_DEVICE_ORDINAL|ZE_AFF)' | sort
for i in 0 1 2 3; do srun -n1 --gpus-per-task=1 bash -c "echo fold $i CVD=\\$CUDA_VISIBLE_DEVICES; sleep 2" & done; wait
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "gpuc", CLUSTER)


def test_concurrent_steps_get_their_own_gpus(server: LiveServer) -> None:
    (server.work / "steps.sh").write_text(STEPS)
    job = server.cli("submit", "--parsable", "-n", "4", "--gpus-per-task=1", "-o", "steps.out", "steps.sh", check=True)
    assert server.cli("wait", job.stdout.strip(), "--timeout", "60").returncode == 0
    lines = (server.work / "steps.out").read_text().splitlines()
    for name in ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "ZE_AFFINITY_MASK"):
        assert f"{name}=0,1,2,3" in lines, lines
    assert sorted(line.rpartition("=")[2] for line in lines if line.startswith("fold")) == ["0", "1", "2", "3"], lines
