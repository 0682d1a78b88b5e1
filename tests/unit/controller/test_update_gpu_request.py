"""hal update keeps a pending job's GPU request (QA): its GPU type survives any Features= (it was stored as the
feature gpu:h100, so Features=gpu:a100 ran an h100 job on an a100 node), and a --gpus/-G total stays the job's
total over a new NumNodes/NumTasks (NumNodes=4 on -N2 --gpus=8 asked for 16)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from hal.api.views import record
from hal.cli.live import tres
from hal.controller.contracts import SubmitError
from hal.controller.directives import JobRequest, build_request
from hal.controller.holds import set_hold
from hal.controller.option_values import DirectiveError
from hal.controller.update import update
from tests.unit.controller.test_parked import controller
from tests.unit.controller.topokit import ADMIN

R2 = """name = "r2"
[[nodes]]
names = "h[1-2]"
cpus = 2
mem = "2G"
gpus = 4
gpu_type = "h100"
features = ["fast"]
[[nodes]]
names = "a[1-2]"
cpus = 2
mem = "2G"
gpus = 2
gpu_type = "a100"
features = ["fast"]
"""


def r2(tmp: Path) -> AbstractContextManager[Any]:
    """A controller on this file's cluster (test_parked.controller: loop not running)."""
    return controller(tmp, R2)


def submit(ctl: Any, tmp: Path, **options: str) -> int:
    opts = {"hold": "1", "time": "2", **{k.replace("_", "-"): v for k, v in options.items()}}
    return int(ctl.submit(build_request("#!/bin/sh\ntrue\n", opts, {}, str(tmp), 0), "root").job_ids[0])


def shown(ctl: Any, job: int) -> dict[str, Any]:
    return record(dict(ctl.store.get(job) or {}), ctl.clock(), detail=True)


def test_a_gpu_type_survives_any_features_update_and_the_job_runs_on_its_type(tmp_path: Path) -> None:
    with r2(tmp_path) as ctl:
        job = submit(ctl, tmp_path, gres="gpu:h100:2")
        assert tres(shown(ctl, job)).endswith(",gres/gpu=2,gres/gpu:h100=2")  # ReqTRES, as Slurm's
        assert shown(ctl, job)["features"] == []  # the type is the GPU request's, not a constraint
        with pytest.raises(SubmitError, match=r"could never run.*has a100 GPUs and h100 GPUs \(no node"):
            update(ctl, str(job), ADMIN, {"Features": "gpu:a100"})  # an a100 constraint on h100 GPUs: no node
        update(ctl, str(job), ADMIN, {"Features": ""})
        assert ctl.live[job].spec.features == ("gpu:h100",)
        update(ctl, str(job), ADMIN, {"Features": "fast", "ExcNodeList": "h1"})
        assert ctl.live[job].spec.features == ("fast", "gpu:h100")
        set_hold(ctl, str(job), ADMIN, False)
        ctl.run_cycle()
        assert (ctl.store.get(job) or {})["nodelist"] == "h2"  # was a1 once Features= dropped the type
        assert tres(shown(ctl, job), allocated=True).endswith(",gres/gpu=2,gres/gpu:h100=2")


def test_a_constraint_and_a_gpu_type_stay_apart_through_updates(tmp_path: Path) -> None:
    with r2(tmp_path) as ctl:
        job = submit(ctl, tmp_path, constraint="fast", gpus="a100:2")
        update(ctl, str(job), ADMIN, {"ExcNodeList": "a1"})
        assert ctl.live[job].spec.features == ("fast", "gpu:a100")
        update(ctl, str(job), ADMIN, {"Features": ""})  # clears -C only
        assert ctl.live[job].spec.features == ("gpu:a100",) and shown(ctl, job)["features"] == []


def test_a_request_stored_with_its_type_as_a_feature_keeps_it() -> None:
    """Jobs queued before the type had its own field come back from the database with it in features."""
    old = {"script": "#!/bin/sh\n", "gpus_per_task": 2, "features": ["fast", "gpu:h100"]}
    req = JobRequest.from_dict(old)
    assert (req.features, req.gpu_kind, req.node_features()) == (["fast"], "h100", ("fast", "gpu:h100"))
    assert JobRequest.from_dict({"script": "", "features": ["gpu:h100"]}).features == ["gpu:h100"]  # -C, no GPUs


def test_a_gpus_total_is_spread_again_over_a_new_node_count(tmp_path: Path) -> None:
    with r2(tmp_path) as ctl:
        job = submit(ctl, tmp_path, nodes="2", gpus="4")
        update(ctl, str(job), ADMIN, {"NumNodes": "4"})
        assert (ctl.live[job].spec.per_task.gpus, ctl.live[job].spec.tasks) == (1, 4)
        assert (ctl.store.get(job) or {})["req_gpus"] == 4  # ReqTRES gres/gpu=4, not 8
        with pytest.raises(SubmitError, match=r"job \d+: --gpus=4: 4 GPUs over 3 tasks; HAL gives each task"):
            update(ctl, str(job), ADMIN, {"NumNodes": "3"})  # as submission refuses -N3 --gpus=4
        with pytest.raises(DirectiveError, match=r"^--gpus=4: 4 GPUs over 3 tasks; HAL gives each task"):
            submit(ctl, tmp_path, nodes="3", gpus="4")
        update(ctl, str(job), ADMIN, {"NumNodes": "1", "NumTasks": "2"})
        assert (ctl.live[job].spec.per_task.gpus, (ctl.store.get(job) or {})["req_gpus"]) == (2, 4)


def test_per_gpu_sizes_follow_the_new_share(tmp_path: Path) -> None:
    with r2(tmp_path) as ctl:
        job = submit(ctl, tmp_path, nodes="1", ntasks="1", gpus="h100:2", cpus_per_gpu="1", mem_per_gpu="100M")
        update(ctl, str(job), ADMIN, {"NumTasks": "2"})
        per = ctl.live[job].spec.per_task
        assert (per.gpus, per.cpus, per.mem_mb) == (1, 1, 100)
        assert ctl.live[job].spec.features == ("gpu:h100",)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"nodes": "3", "gres": "gpu:a100:1"}, "needs 3 nodes, the partition has 2 with a100 GPUs"),
        ({"nodes": "4", "exclude": "a1"}, "needs 4 nodes, the partition has 3 left after --exclude"),
        ({"ntasks": "5", "gpus_per_task": "a100:1"}, "needs 5 cpus in all, the partition has 4 with a100 GPUs"),
    ],
)
def test_a_node_count_over_the_nodes_of_a_type_names_the_type(
    tmp_path: Path, options: dict[str, str], said: str
) -> None:
    """QA: -N5 --gres=gpu:a100:1 said "the partition has 4" of a 20-node partition, 4 of them with a100s."""
    from hal.controller.testonly import test_only

    with r2(tmp_path) as ctl:
        opts = {"time": "5", **{k.replace("_", "-"): v for k, v in options.items()}}
        with pytest.raises(SubmitError, match=said):
            test_only(ctl, build_request("#!/bin/sh\ntrue\n", opts, {}, str(tmp_path), 0), "root")
