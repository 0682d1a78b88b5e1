"""On a node without GPUs configured, a job or task keeps the vendors' GPU variables it was given (QA: since jobs
and tasks dropped inherited GPU variables, `CUDA_VISIBLE_DEVICES=1 hal submit` on a workstation whose cluster file
has no GPUs gave a job that saw every GPU of the machine). Slurm unsets CUDA_VISIBLE_DEVICES and the like by the
node's gres.conf, and its own SLURM_JOB_GPUS, SLURM_GPUS_ON_NODE, ... wherever it manages GPUs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hal.clusterfile import uniform_toml
from hal.controller.machine import Machine
from hal.executors.api import LaunchSpec, NodeShare
from hal.executors.jobenv import job_environment, parse_shares, shares_json
from hal.executors.tasks import place, task_environment
from tests.unit.executors.test_gpu_env_scope import OUTER

VENDOR = ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "ZE_AFFINITY_MASK")
SLURMS = ("SLURM_JOB_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_STEP_GPUS", "HAL_GPUS")


def spec(shares: tuple[NodeShare, ...], env: dict[str, str], ntasks: int = 1) -> LaunchSpec:
    return LaunchSpec(42, "inner", "alice", "true\n", Path("/w"), "", "", shares, ntasks=ntasks, env=env)


def test_a_job_on_a_node_without_gpus_keeps_the_gpus_it_was_given() -> None:
    no_gpus = (NodeShare("n01", (0,), 100, (), 1, "", 0),)
    env = job_environment(spec(no_gpus, {"CUDA_VISIBLE_DEVICES": "1"}), {})  # CUDA_VISIBLE_DEVICES=1 hal submit
    assert env["CUDA_VISIBLE_DEVICES"] == "1"
    inherited = job_environment(spec(no_gpus, dict(OUTER)), {})
    assert {name: inherited.get(name) for name in VENDOR} == {name: OUTER[name] for name in VENDOR}
    assert [name for name in SLURMS if name in inherited] == []  # those name another allocation's GPUs


def test_a_job_on_a_gpu_node_holding_none_still_drops_them() -> None:
    gpu_node = (NodeShare("gpu09", (0,), 100, (), 1, "h100", 8),)
    env = job_environment(spec(gpu_node, {"CUDA_VISIBLE_DEVICES": "1", **OUTER}), {})
    assert [name for name in (*VENDOR, *SLURMS) if name in env] == []


def test_a_task_keeps_them_on_a_node_without_gpus() -> None:
    shares = (NodeShare("n01", (0,), 0, (), 1, "", 0), NodeShare("n02", (1,), 0, (), 1, "", 0))
    batch = job_environment(spec(shares, {"CUDA_VISIBLE_DEVICES": "1"}, ntasks=2), {})
    assert parse_shares(shares_json(shares)) == list(shares)  # as `hal run` reads them
    assert parse_shares(batch["HAL_JOB_SHARES"]) == list(shares)
    tasks = place(shares, 2, 1, "block")
    assert [task_environment(batch, shares, tasks, t).get("CUDA_VISIBLE_DEVICES") for t in tasks] == ["1", "1"]


def test_the_machine_names_each_nodes_configured_gpus(tmp_path: Path) -> None:
    gpus, cpus = tmp_path / "gpus.toml", tmp_path / "cpus.toml"
    gpus.write_text(uniform_toml(2, cpus=4, mem="4G", gpus=2))
    cpus.write_text(uniform_toml(2, cpus=4, mem="4G"))
    amounts = np.array([[1, 100, 0]], dtype=np.int64)
    assert Machine.load(gpus).shares([(1, [0], [])], amounts)[0].node_gpus == 2
    assert Machine.load(cpus).shares([(1, [0], [])], amounts)[0].node_gpus == 0
