"""A refusal names a job's GPU type as GPUs, not as a -C feature (QA: `hal update J Features=a100` on a
--gres=gpu:h100:2 job said no node "has the features ['a100', 'gpu:h100']"; the type is the GPU request's own
field since hal update keeps it, but the engine still asks nodes for it as the feature gpu:h100)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.directives import build_request
from hal.controller.update import update
from tests.unit.controller.test_parked import controller
from tests.unit.controller.topokit import ADMIN

G = """name = "G"
[[nodes]]
names = "gpu[001-004]"
cpus = 2
mem = "1G"
gpus = 4
gpu_type = "a100"
features = ["a100", "ib"]
partitions = ["batch"]
[[nodes]]
names = "gpu[005-008]"
cpus = 2
mem = "1G"
gpus = 4
gpu_type = "h100"
features = ["h100", "ib"]
partitions = ["batch"]
[[partitions]]
name = "batch"
default = true
"""


def cluster(tmp: Path) -> AbstractContextManager[Any]:
    """A controller on this file's cluster (test_parked.controller: loop not running)."""
    return controller(tmp, G)


def submit(ctl: Any, tmp: Path, **options: str) -> int:
    req = build_request("#!/bin/sh\ntrue\n", {k.replace("_", "-"): v for k, v in options.items()}, {}, str(tmp), 0)
    return int(ctl.submit(req, "root").job_ids[0])


def test_a_gpu_type_is_said_as_gpus_not_as_a_feature(tmp_path: Path) -> None:
    with cluster(tmp_path) as ctl:
        job = submit(ctl, tmp_path, hold="", gres="gpu:h100:2")
        with pytest.raises(SubmitError) as told:
            update(ctl, str(job), ADMIN, {"Features": "a100"})
        assert str(told.value).endswith(
            "no node of partition 'batch' has the features ['a100'] and h100 GPUs (no node has them)"
        )
        with pytest.raises(SubmitError) as told:
            submit(ctl, tmp_path, gpus="h100:2", constraint="a100&ib")
        assert "has the features ['a100', 'ib'] and h100 GPUs (no node has them)" in str(told.value)


def test_a_gpu_type_no_node_group_has_says_which_types_there_are(tmp_path: Path) -> None:
    with cluster(tmp_path) as ctl, pytest.raises(SubmitError) as told:
        submit(ctl, tmp_path, gres="gpu:v100:2")
    assert str(told.value).endswith(
        "no node of partition 'batch' has v100 GPUs (no node has them); the cluster file's node groups have "
        "gpu_type a100, h100"
    )
    assert "gpu:v100" not in str(told.value)
