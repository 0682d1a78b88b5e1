"""A one-task job asking more GPUs than a node holds is refused with the shapes that fit, by the server itself: the
fix was added by `hal submit` (parsing the refusal), so REST and SDK clients got the refusal without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hal.api.server import ServerOptions, build
from hal.controller.contracts import SubmitError
from hal.controller.directives import build_request
from hal.controller.testonly import test_only as dry_run

CLUSTER = """name = "gpus"
[[nodes]]
prefix = "g"
count = 6
cpus = 4
mem = "1G"
gpus = 4
"""


def _controller(tmp_path: Path, cluster_toml: str) -> Iterator[Any]:
    """A controller (dev executor) on ``cluster_toml``, for a fixture to ``yield from``."""
    cluster = tmp_path / "cluster.toml"
    cluster.write_text(cluster_toml)
    ctl, _app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster))
    try:
        yield ctl
    finally:
        executor.shutdown()
        store.close()


@pytest.fixture
def ctl(tmp_path: Path) -> Iterator[Any]:
    yield from _controller(tmp_path, CLUSTER)


def _refusal(ctl: Any, submit: Any = None, **options: str) -> str:
    req = build_request("#!/bin/sh\ntrue\n", {k.replace("_", "-"): v for k, v in options.items()}, {}, "/tmp", 0)
    with pytest.raises(SubmitError) as exc:
        (submit or ctl.submit)(req, "alice")
    return str(exc.value)


def test_a_total_gets_add_n_and_per_node_asks_get_exact_shapes(ctl: Any) -> None:
    said = _refusal(ctl, gpus="8")
    assert "needs 8 gpus on one node (a one-task job runs on one node)" in said, said
    assert "add -N 2 (a task on each node, 4 GPUs each), or ask for --gpus-per-node=4 -N 2" in said, said
    said = _refusal(ctl, gres="gpu:5")  # -N 2 would ask 5 on each node: no `add -N`
    assert "-n 5 --gpus-per-task=1" in said and "--gpus-per-node=1 -N 5" in said and "add -N" not in said, said
    said = _refusal(ctl, gpus_per_task="8")
    assert "ask for --gpus-per-node=4 -N 2" in said and "add -N" not in said, said
    said = _refusal(ctl, lambda req, user: dry_run(ctl, req, user), gpus="8", test_only="")  # --test-only too
    assert "add -N 2" in said, said


def test_no_fix_where_none_applies(ctl: Any) -> None:
    said = _refusal(ctl, nodes="2", gpus_per_node="8")  # -N: the engine offers more, smaller nodes (its own test)
    assert "add -N" not in said and said.count("spread them over nodes") == 1, said
    said = _refusal(ctl, cpus_per_task="64")
    assert "spread them over nodes" not in said, said


TYPED = """name = "typed"
[[nodes]]
prefix = "a"
count = 2
cpus = 4
mem = "1G"
gpus = 2
gpu_type = "a100"
partitions = ["gpu"]
[[nodes]]
prefix = "h"
count = 1
cpus = 4
mem = "1G"
gpus = 2
gpu_type = "h100"
partitions = ["gpu"]
[[nodes]]
prefix = "b"
count = 4
cpus = 4
mem = "1G"
gpus = 4
gpu_type = "a100"
partitions = ["big"]
[[partitions]]
name = "gpu"
default = true
[[partitions]]
name = "big"
"""


@pytest.fixture
def typed(tmp_path: Path) -> Iterator[Any]:
    yield from _controller(tmp_path, TYPED)


def test_typed_shapes_count_only_nodes_of_the_type_and_the_partition(typed: Any) -> None:
    """--gpus=h100:4 was told `add -N 2` with one h100 node; --gres=gpu:a100:3 `--gpus-per-node=1 -N 3` with two
    a100 nodes in its partition (the four in another partition do not count): shapes the server refuses in turn."""
    said = _refusal(typed, gpus="h100:4")
    assert "spread them over nodes" not in said and "-N" not in said, said
    assert "no shape on the nodes the job may use holds 4 h100 GPUs: they hold 2 in all, at most 2 a node" in said, said
    said = _refusal(typed, gres="gpu:a100:3")
    assert "-n 3 --gpus-per-task=a100:1 (exactly 3 GPUs, up to 2 a node)" in said, said
    assert "-N 3" not in said and "the nearest on 2 nodes is --gpus-per-node=a100:2 -N 2 (4 GPUs)" in said, said
    said = _refusal(typed, gpus="a100:4")
    assert "add -N 2 (a task on each node, 2 a100 GPUs each), or ask for --gpus-per-node=a100:2 -N 2" in said, said
    said = _refusal(typed, gpus="a100:6", partition="big")  # 4-GPU nodes of that partition
    assert "add -N 2 (a task on each node, 3 a100 GPUs each)" in said and "--gpus-per-node=a100:3 -N 2" in said, said
    said = _refusal(typed, gpus="a100:6")  # the gpu partition's two a100 nodes hold 4
    assert "-N" not in said and "holds 6 a100 GPUs: they hold 4 in all" in said, said
