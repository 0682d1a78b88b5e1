"""Per-node asks of a -N job with tasks that do not spread evenly (QA): sbatch's --mem and --gpus-per-node are
each node's, whatever its share of the tasks, while per-task asks follow each node's tasks, as Slurm allocates
-N 2 -n 3 (2 tasks, then 1)."""

from __future__ import annotations

from hal.controller.directives import build_request
from hal.controller.jobs import spec_of
from hal.engine.request import request_of
from hal.model.resources import ResourceSpace


def _rows(*directives: str) -> tuple[list[list[int]], dict[str, object]]:
    script = "#!/bin/sh\n" + "".join(f"#SBATCH {d}\n" for d in directives)
    req = build_request(script, {}, {}, "/", 0.0)
    got = request_of(spec_of(1, req, "u", 0.0, ()), ResourceSpace())
    shown = {"nodes": req.nodes, "requested": req.requested(), "notes": req.notes, "per_node": got.per_node().tolist()}
    return got.node_amounts().tolist(), shown


def test_mem_is_per_node_and_mem_per_cpu_follows_the_tasks() -> None:
    rows, shown = _rows("-N 2 -n 3 --mem=1G")
    assert [r[1] for r in rows] == [1024, 1024] and shown["requested"] == (2048, 0)  # it held 1366 on each
    assert [r[0] for r in rows] == [2, 1]
    rows, _ = _rows("-N 2 -n 3 --mem=4G")
    assert [r[1] for r in rows] == [4096, 4096]  # fits 4G nodes (it asked 5462 MB of each)
    rows, shown = _rows("-N 2 -n 3 -c 2 --mem-per-cpu=256M")
    assert rows == [[4, 1024, 0], [2, 512, 0]] and shown["requested"] == (1536, 0)  # g001 held 1024


def test_gpus_per_node_are_held_whole_on_each_node() -> None:
    rows, shown = _rows("-N 2 -n 3 --gpus-per-node=3")
    assert [r[2] for r in rows] == [3, 3] and shown["requested"] == (0, 6)  # it held 4 and 2
    rows, _ = _rows("-N 2 -n 3 --gpus-per-node=2")  # was refused: 4 GPUs over 3 tasks
    assert [r[2] for r in rows] == [2, 2]
    rows, _ = _rows("-N 2 --ntasks-per-node=8 --gres=gpu:4")  # was refused: 8 GPUs over 16 tasks
    assert [r[2] for r in rows] == [4, 4] and [r[0] for r in rows] == [8, 8]
    rows, _ = _rows("-N 2 -n 3 --gpus-per-task=4")  # per task: 8 and 4
    assert [r[2] for r in rows] == [8, 4]


def test_fewer_tasks_than_nodes_takes_fewer_nodes_as_sbatch_does() -> None:
    rows, shown = _rows("-N 3 -n 2 --gpus-per-task=1")
    assert shown["nodes"] == 2 and rows == [[1, 0, 1], [1, 0, 1]]  # a third node held a GPU and ran no task
    assert any("-N set to 2" in str(n) for n in shown["notes"])  # type: ignore[union-attr]


def test_a_node_count_set_later_holds_mem_per_node() -> None:
    """QA: `hal update NumNodes=2` on a -n 4 --mem=2G job held 1024M a node (the split over its tasks)."""
    import dataclasses

    req = build_request("#!/bin/sh\n#SBATCH -n 4 --mem=2G\n", {}, {}, "/", 0.0)
    assert req.requested() == (2048, 0)  # no -N: the node count is unknown, the tasks share it
    later = dataclasses.replace(req, nodes=2)
    got = request_of(spec_of(1, later, "u", 0.0, ()), ResourceSpace())
    assert [r[1] for r in got.node_amounts().tolist()] == [2048, 2048] and later.requested() == (4096, 0)


def test_export_none_keeps_the_submitters_umask_and_per_gpu_sizes_say_why_they_are_refused() -> None:
    import pytest

    from hal.controller.option_values import DirectiveError

    env = {"SLURM_UMASK": "0027", "HOME": "/h"}
    req = build_request("#!/bin/sh\n#SBATCH --export=NONE\n", {}, env, "/", 0.0)
    assert req.env.get("SLURM_UMASK") == "0027" and "HOME" not in req.env  # sbatch passes it whatever --export
    with pytest.raises(DirectiveError, match="shared by the node's tasks"):
        build_request("#!/bin/sh\n#SBATCH -N 1 -n 2 --gres=gpu:1 --cpus-per-gpu=2\n", {}, {}, "/", 0.0)
