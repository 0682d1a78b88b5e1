"""A torchrun-style GPU job on a real server's 2-node cluster: per-GPU options, `scontrol show hostnames` for
MASTER_ADDR, srun's GPU and step options inside the job, and the fixes said when a GPU request or update is off."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.integration.livekit import LiveServer, serve_cluster

CLUSTER = """name = "gpusteps"
[[nodes]]
prefix = "g"
count = 2
cpus = 4
mem = "2G"
gpus = 4
"""

SCRIPT = """#!/bin/sh
#SBATCH -N 2 --gpus-per-node=2 --cpus-per-gpu=1 --mem-per-gpu=100M --gpu-freq=high
echo master=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1) all=$(scontrol show hostnames | wc -l)
echo list=$(scontrol show hostlist g000,g001)
scontrol show job | head -n 1
srun --gpus-per-task=1 -n 4 -c 1 --mpi=none --mem=1G --distribution=block:block --gpu-bind=closest \\
  sh -c 'echo task=$SLURM_PROCID@$SLURMD_NODENAME:$CUDA_VISIBLE_DEVICES:$SLURM_STEP_GPUS'
srun --gres=gpu:1 -n 1 -c 1 sh -c 'echo gres=$CUDA_VISIBLE_DEVICES'
srun --gpus-per-task=3 -n 2 true; echo too_many=$?
start=$(date +%s)
srun -K -n 2 sh -c '[ "$SLURM_PROCID" = 1 ] && exit 3; sleep 60'; echo kill=$? took=$(( $(date +%s) - start ))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "gpusteps", CLUSTER)


def test_gpu_job_finds_scontrol_and_srun_takes_step_options(server: LiveServer) -> None:
    (server.work / "train.sh").write_text(SCRIPT)
    done = server.cli("submit", "--parsable", "-o", "train.out", "train.sh", check=True)
    assert "--gpu-freq" in done.stderr, done.stderr  # said, not silently dropped
    job = done.stdout.strip()
    assert server.cli("wait", job, "--timeout", "90").returncode == 0
    rec = json.loads(server.cli("show", job, "--json", check=True).stdout)
    assert (rec["req_tasks"], rec["cpus_per_task"]) == (2, 2), rec  # one task a node, 2 GPUs x 1 CPU each
    text = (server.work / "train.out").read_text()
    lines = text.splitlines()
    assert "master=g000 all=2" in lines and "list=g[000-001]" in lines, text
    assert f"JobId={job} JobName=train.sh" in lines, text
    tasks = sorted(line for line in lines if line.startswith("task="))
    assert tasks == ["task=0@g000:0:0", "task=1@g000:1:1", "task=2@g001:0:0", "task=3@g001:1:1"], text
    assert "accepted but not acted on by HAL: --gpu-bind, --mem" in text, text
    assert lines.count("gres=0") == 1 and "too_many=2" in lines, text
    assert "needs 3 GPU(s) on node g000, which holds 2" in text, text
    kill = next(line for line in lines if line.startswith("kill="))
    assert kill.startswith("kill=3") and int(kill.rpartition("=")[2]) < 30, text


def test_hostlists_outside_jobs_and_fixes_said(server: LiveServer) -> None:
    assert server.cli("show", "hostnames", "g[000-001]", check=True).stdout.split() == ["g000", "g001"]
    assert server.cli("show", "hostlist", "g001,g000", check=True).stdout.strip() == "g[001,000]"
    refused = server.cli("submit", "--gpus=8", "--wrap", "true")
    said = " ".join(refused.stderr.split())
    assert refused.returncode != 0 and "add -N 2" in said and "--gpus-per-node=4 -N 2" in said, said
    job = server.cli("submit", "--parsable", "-H", "-N", "1", "--wrap", "true", check=True).stdout.strip()
    server.cli("update", job, "NumNodes=2", check=True)  # its one task a node scales with the nodes
    rec = json.loads(server.cli("show", job, "--json", check=True).stdout)
    assert rec["req_tasks"] == 2, rec
    server.cli("cancel", job, check=True)
