"""Options sized by GPUs (--cpus-per-gpu, --mem-per-gpu, --ntasks-per-gpu, --tres-per-task) on HAL's per-task model."""

from __future__ import annotations

import pytest

from hal.controller.directives import build_request
from hal.controller.option_values import DirectiveError


def req(directives: str, given: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return build_request(f"#!/bin/sh\n#SBATCH {directives}\ntrue\n", given or {}, {}, "/", 0.0)


def test_per_gpu_options_size_each_task() -> None:
    r = req("-N 2 --ntasks-per-node=4 --gpus-per-node=8 --cpus-per-gpu=4 --mem-per-gpu=10G")
    assert (r.tasks, r.gpus_per_task, r.cpus_per_task, r.mem_per_task_mb) == (8, 2, 8, 20480)
    assert r.env["SLURM_CPUS_PER_GPU"] == "4" and r.env["SLURM_MEM_PER_GPU"] == "10240"
    r = req("-N 2 --gpus-per-node=8 --ntasks-per-gpu=1")  # a task per GPU
    assert (r.tasks, r.nodes, r.gpus_per_task) == (16, 2, 1)
    assert req("-n 8 --ntasks-per-gpu=1").gpus_per_task == 1  # -n: a GPU for each task
    r = req("--tres-per-task=cpu=4,gres/gpu:a100=2")
    assert (r.cpus_per_task, r.gpus_per_task, r.gpu_kind, r.features) == (4, 2, "a100", [])
    assert req("--gpus=1 --gpu-freq=high").notes == ["accepted but not acted on by HAL: --gpu-freq"]
    assert req("-c 3 --gpus=2", {"cpus-per-gpu": "2"}).cpus_per_task == 4  # the command line's replaces the script's


@pytest.mark.parametrize(
    ("directives", "said"),
    [
        ("--cpus-per-gpu=2", "--cpus-per-gpu needs GPUs"),
        ("--gpus=2 --cpus-per-gpu=2 -c 3", "--cpus-per-gpu and --cpus-per-task are mutually exclusive"),
        ("--gpus=1 --mem-per-gpu=1G --mem=2G", "mutually exclusive"),
        ("--gpus=2 --ntasks-per-gpu=2", "tasks cannot share one"),
        ("--tres-per-task=license/x=1", "cpu= and gres/gpu"),
        ("--tres-per-task=cpu=2 -c 2", "give one of them"),
        ("--topology=required=block,preferred=block", "only one of required=LEVEL or preferred=LEVEL"),
    ],
)
def test_what_cannot_map_is_refused_in_words(directives: str, said: str) -> None:
    with pytest.raises(DirectiveError, match=said):
        req(directives)
