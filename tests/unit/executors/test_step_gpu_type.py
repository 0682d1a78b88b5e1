"""srun --gres=gpu:TYPE:N (and --gpus-per-*=TYPE:N) inside a job: refused when the job's GPUs there are of another
type, or untyped, as Slurm's step creation refuses it (the step ran on the job's other GPUs, silently)."""

from __future__ import annotations

import pytest

from hal.executors.api import NodeShare
from hal.executors.jobenv import parse_shares, shares_json
from hal.executors.srun_options import parser, step_of
from hal.executors.tasks import RunError, Step, Task, gpu_problem

A100 = NodeShare("a000", (0, 1), 0, (0, 1), 2, "a100")


def _step(*words: str) -> Step:
    return step_of(parser().parse_args([*words, "true"]))[0]


def test_the_step_options_name_their_gpu_type() -> None:
    assert _step("--gres=gpu:h100:1").gpu_type == "h100"
    assert _step("--gres=gpu:h100").gpu_type == "h100"
    assert _step("--gpus-per-task=a100:1").gpu_type == "a100"
    assert _step("--gpus-per-node=a100:2").gpu_type == "a100"
    assert _step("--gres=gpu:2").gpu_type == _step("--gpus-per-task=1").gpu_type == ""
    with pytest.raises(RunError, match="a100 and h100"):
        _step("--gres=gpu:h100:1", "--gpus-per-task=a100:1")


def test_a_type_the_job_does_not_hold_is_refused_naming_what_it_holds() -> None:
    one = [Task(0, 0, 0)]
    assert gpu_problem([A100], one, Step(gpus_per_node=1, gpu_type="a100")) is None
    said = gpu_problem([A100], one, Step(gpus_per_node=1, gpu_type="h100"))
    assert said is not None and "requested GPU type not available in the allocation" in said
    assert "2 a100 GPU(s) on node a000" in said
    plain = NodeShare("g000", (0,), 0, (0, 1), 1, "")
    said = gpu_problem([plain], one, Step(gpus_per_node=1, gpu_type="a100"))
    assert said is not None and "2 untyped GPU(s)" in said
    said = gpu_problem([NodeShare("c000", (0,), 0, (), 1, "")], one, Step(gpus_per_node=1, gpu_type="a100"))
    assert said is not None and "holds no GPUs" in said
    older = NodeShare("g000", (0,), 0, (0, 1), 1)  # launched before types were recorded: taken on trust
    assert gpu_problem([older], one, Step(gpus_per_node=1, gpu_type="a100")) is None


def test_the_allocation_carries_its_gpu_type_to_the_step() -> None:
    assert parse_shares(shares_json([A100])) == [A100]
    assert parse_shares(shares_json([NodeShare("c0", (0,), 0)]))[0].gpu_type is None


def test_a_typed_step_wide_gpus_is_checked_as_the_others_are() -> None:
    """srun --gpus=h100:1 in a job holding a100 GPUs ran silently (noted only) while --gres=gpu:h100:1 was refused."""
    assert _step("--gpus=h100:1").gpu_type == _step("-G", "h100:2").gpu_type == "h100"
    said = gpu_problem([A100], [Task(0, 0, 0)], _step("--gpus=h100:1"))
    assert said is not None and "requested GPU type not available in the allocation" in said
    assert gpu_problem([A100], [Task(0, 0, 0)], _step("--gpus=a100:1")) is None
    step, _, noted = step_of(parser().parse_args(["--gpus=2", "true"]))
    assert step.gpu_type == "" and noted == ["--gpus"]  # untyped: noted as before
    with pytest.raises(RunError, match="a100 and h100"):
        _step("--gpus=h100:1", "--gpus-per-task=a100:1")


def test_a_short_option_is_named_as_typed_in_the_note() -> None:
    assert step_of(parser().parse_args(["-G", "2", "true"]))[2] == ["-G"]  # it said --G
