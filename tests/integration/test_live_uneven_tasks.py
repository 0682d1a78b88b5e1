"""An uneven -N/-n job through a real server: Slurm's block distribution holds each node's own share (-N 2 -n 3:
two tasks' CPUs and GPUs, then one), so no GPU is held that no task can use, and AllocTRES says what is held."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.integration.livekit import LiveServer, serve_cluster

CLUSTER = """name = "uneven"
[[nodes]]
prefix = "g"
count = 2
cpus = 4
mem = "1G"
gpus = 8
"""

SCRIPT = """#!/bin/bash
echo "cpus=$SLURM_JOB_CPUS_PER_NODE tasks=$SLURM_TASKS_PER_NODE"
srun bash -c 'echo "task $SLURM_PROCID on $SLURMD_NODENAME gpus=$CUDA_VISIBLE_DEVICES"' | sort
sleep 30
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "uneven", CLUSTER)


def _nodes(server: LiveServer) -> dict[str, tuple[int, int]]:
    rows = json.loads(server.cli("nodes", "--json", check=True).stdout)["nodes"]
    return {r["name"]: (r["cpus_alloc"], r["gpus_alloc"]) for r in rows}


def test_uneven_tasks_hold_each_node_s_share(server: LiveServer) -> None:
    (server.work / "job.sh").write_text(SCRIPT)
    job = server.cli("submit", "--parsable", "-N", "2", "-n", "3", "--gpus-per-task=4", "-o", "out-%j", "job.sh",
                     check=True).stdout.strip()  # fmt: skip
    for _ in range(300):
        out = server.work / f"out-{job}"
        if out.exists() and out.read_text().count("task ") == 3:
            break
        server.cli("show", job, check=True)
    lines = (server.work / f"out-{job}").read_text().splitlines()
    assert lines[0] == "cpus=2,1 tasks=2,1", lines
    tasks = sorted(lines[1:])
    assert tasks == ["task 0 on g000 gpus=0,1,2,3", "task 1 on g000 gpus=4,5,6,7", "task 2 on g001 gpus=0,1,2,3"]
    assert _nodes(server) == {"g000": (2, 8), "g001": (1, 4)}  # four GPUs on g001 stay free for others
    shown = json.loads(server.cli("show", job, "--json", check=True).stdout)
    assert (shown["alloc_cpus"], shown["alloc_gpus"]) == (3, 12)
    said = server.cli("show", job, check=True).stdout
    assert "AllocTRES=cpu=3,mem=0M,node=2,gres/gpu=12" in said, said
    server.cli("cancel", job, check=True)


def test_exclusive_alloc_tres_counts_the_whole_node(server: LiveServer) -> None:
    job = server.cli("submit", "--parsable", "--gres=gpu:2", "--exclusive", "--wrap", "sleep 30", check=True)
    job_id = job.stdout.strip()
    for _ in range(300):
        rec = json.loads(server.cli("show", job_id, "--json", check=True).stdout)
        if rec["state"] == "RUNNING":
            break
    said = " ".join(server.cli("show", job_id, check=True).stdout.split())
    assert "AllocTRES=cpu=4,mem=1024M,node=1,gres/gpu=8" in said, said  # sacct: what the job holds
    server.cli("cancel", job_id, check=True)
