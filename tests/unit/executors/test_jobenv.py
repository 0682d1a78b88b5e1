"""Output file patterns, the HAL_*/SLURM_* environment, host lists, task placement and script checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.directives import build_request
from hal.executors import hostlist
from hal.executors.api import MAX_SCRIPT_BYTES, LaunchSpec, NodeShare, script_problem
from hal.executors.jobenv import expand_pattern, job_environment, output_paths, parse_shares, tasks_per_node
from hal.executors.local import interpreter_argv
from hal.executors.memory import probe
from hal.executors.tasks import RunError, place, task_environment

SHARES = (NodeShare("n0", (0, 1), 1000), NodeShare("n1", (2, 3), 1000))


def spec(**kw: object) -> LaunchSpec:
    base: dict[str, object] = dict(
        job_id=42,
        name="train",
        user="alice",
        script="echo hi\n",
        workdir=Path("/w"),
        stdout="",
        stderr="",
        shares=SHARES,
        ntasks=4,
        partition="cpu",
        account="proj",
    )
    base.update(kw)
    return LaunchSpec(**base)  # type: ignore[arg-type]


def test_patterns_expand_like_slurm() -> None:
    s = spec()
    assert expand_pattern("%x-%j.out", s) == "train-42.out"
    assert expand_pattern("%u_%N_%%_%5j_%q", s) == "alice_n0_%_00042_%q"  # unknown %q stays as typed
    assert expand_pattern("%A_%a", s) == "42_4294967294"  # Slurm's %a outside an array
    arr = spec(job_id=50, array_job_id=40, array_task_id=7)
    assert expand_pattern("%A_%a-%j", arr) == "40_7-50"
    assert expand_pattern("%x", spec(name="../../etc/x")) == ".._.._etc_x"


def test_default_outputs_and_stderr_follow_stdout() -> None:
    assert output_paths(spec()) == (Path("/w/slurm-42.out"), Path("/w/slurm-42.out"))
    arr = spec(job_id=50, array_job_id=40, array_task_id=7, stderr="e-%a.err")
    assert output_paths(arr) == (Path("/w/slurm-40_7.out"), Path("/w/e-7.err"))


def test_environment_has_hal_and_slurm_names() -> None:
    env = job_environment(spec(env={"FOO": "bar", "SLURM_JOB_ID": "stale"}), {"PATH": "/bin"})
    assert env["FOO"] == "bar" and env["PATH"] == "/bin"
    assert env["SLURM_JOB_ID"] == env["SLURM_JOBID"] == env["HAL_JOB_ID"] == "42"
    assert env["SLURM_JOB_NODELIST"] == env["HAL_NODELIST"] == "n[0-1]"
    assert env["SLURM_NNODES"] == env["HAL_NNODES"] == "2"
    assert env["SLURM_NTASKS"] == env["HAL_NTASKS"] == "4"
    assert env["SLURM_TASKS_PER_NODE"] == "2(x2)"
    assert env["SLURM_JOB_CPUS_PER_NODE"] == "2(x2)"
    assert env["SLURM_MEM_PER_NODE"] == "1000"
    assert env["SLURM_JOB_PARTITION"] == env["HAL_PARTITION"] == "cpu"
    assert env["SLURM_SUBMIT_DIR"] == env["HAL_SUBMIT_DIR"] == "/w"
    assert "SLURM_ARRAY_TASK_ID" not in env
    arr = job_environment(spec(array_job_id=40, array_task_id=3), {})
    assert arr["SLURM_ARRAY_JOB_ID"] == arr["HAL_ARRAY_JOB_ID"] == "40"
    assert arr["SLURM_ARRAY_TASK_ID"] == arr["HAL_ARRAY_TASK_ID"] == "3"


def test_hostlist_round_trip() -> None:
    for names in (
        ["n0", "n1", "n2", "n5"],
        ["gpu001", "gpu002", "gpu010"],
        ["a", "n1", "b"],
        ["n9", "n10"],
        ["gb09", "gb10"],
    ):
        assert hostlist.expand(hostlist.compress(names)) == names
    assert hostlist.compress(["n0", "n1", "n2", "n5"]) == "n[0-2,5]"
    assert hostlist.compress(["gb09", "gb10", "gb11", "gb12"]) == "gb[09-12]"  # was gb09,gb[10-12]
    assert hostlist.compress(["gb099", "gb100"]) == "gb[099-100]" and hostlist.compress(["n9", "n10"]) == "n[9-10]"
    assert hostlist.compress(["n1", "n10"]) == "n[1,10]"
    assert hostlist.counts([2, 2, 4]) == "2(x2),4"


def test_task_placement_block_and_cyclic() -> None:
    assert tasks_per_node(SHARES, 4, 1) == [2, 2]
    assert tasks_per_node(SHARES, 3, 1) == [2, 1]
    assert tasks_per_node(SHARES, 1, 1) == [1, 0]
    assert tasks_per_node(SHARES, 6, 1) == [3, 3]  # beyond the CPUs: dealt round robin
    block = place(SHARES, 4, 1, "block")
    assert [(t.procid, t.node, t.localid) for t in block] == [(0, 0, 0), (1, 0, 1), (2, 1, 0), (3, 1, 1)]
    cyclic = place(SHARES, 4, 1, "cyclic")
    assert [(t.node, t.localid) for t in cyclic] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    env = task_environment({}, SHARES, block, block[3])
    assert (env["SLURM_PROCID"], env["SLURM_LOCALID"], env["SLURM_NODEID"], env["SLURMD_NODENAME"]) == (
        "3",
        "1",
        "1",
        "n1",
    )
    assert env["HAL_PROCID"] == "3" and env["SLURM_STEP_NODELIST"] == "n[0-1]"
    with pytest.raises(RunError):
        place(SHARES, 2, 1, "plane")


def test_script_problems_are_named() -> None:
    assert script_problem("#!/bin/bash\necho hi\n") is None
    assert script_problem("echo hi") is None
    assert script_problem("  \n\n") == "script is empty"
    assert "binary" in (script_problem("#!/bin/sh\n\x00\x01") or "")
    assert "binary" in (script_problem("\x7fELF" + "\x01\x02\x03" * 100) or "")
    assert "limit" in (script_problem("#" * (MAX_SCRIPT_BYTES + 1)) or "")
    assert "dos2unix" in (script_problem("#!/bin/sh\r\necho\r\n") or "")


def test_shebang_becomes_argv() -> None:
    p = Path("/s/script")
    assert interpreter_argv("#!/bin/bash -l\necho", p) == ["/bin/bash", "-l", "/s/script"]
    assert interpreter_argv("#!/usr/bin/env python3\n", p) == ["/usr/bin/env", "python3", "/s/script"]
    assert interpreter_argv("echo hi\n", p) == ["/bin/sh", "/s/script"]


def test_memory_probe_says_why(tmp_path: Path) -> None:
    assert probe("none").kind == "none"
    assert probe("rlimit").kind == "rlimit"
    fallback = probe("auto", cgroup_root=tmp_path)  # a plain directory is no cgroup
    assert fallback.kind == "rlimit" and "not a cgroup v2 directory" in fallback.detail
    with pytest.raises(RuntimeError, match="not usable"):
        probe("cgroup", cgroup_root=tmp_path)


def test_host_lists_with_several_brackets_and_bad_ranges() -> None:
    assert hostlist.expand("rack[1-2]-n[01-02]") == ["rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"]
    for bad in ("n[3-1]", "n[a-b]", "n[1-]"):
        with pytest.raises(ValueError, match="n\\["):
            hostlist.expand(bad)


def test_cpus_on_node_are_the_allocated_ones_not_the_host_cpus_behind_them() -> None:
    """A virtual node of 4 CPUs pinned to one host core: Slurm's variables say 4 (they said 1)."""
    pinned = (NodeShare("vn0", (0,), 0, (), 4), NodeShare("vn1", (1,), 0, (), 2))
    env = job_environment(spec(shares=pinned), {})
    assert env["SLURM_CPUS_ON_NODE"] == "4" and env["SLURM_JOB_CPUS_PER_NODE"] == "4,2"
    assert [s.allocated for s in parse_shares(env["HAL_JOB_SHARES"])] == [4, 2]


def test_gpus_per_task_gives_each_task_its_own_gpus() -> None:
    """Every task saw all the node's GPUs; with --gpus-per-task Slurm binds each task to its own."""
    shares = (NodeShare("n0", (0, 1), 0, (0, 1, 2, 3), 4), NodeShare("n1", (2, 3), 0, (4, 5), 2))
    tasks = place(shares, 6, 1, "block")
    seen = {t.procid: task_environment({"SLURM_GPUS_PER_TASK": "1"}, shares, tasks, t)["CUDA_VISIBLE_DEVICES"]
            for t in tasks}  # fmt: skip
    assert sorted(seen.values()) == ["0", "1", "2", "3", "4", "5"]
    assert task_environment({}, shares, tasks, tasks[0])["CUDA_VISIBLE_DEVICES"] == "0,1,2,3"  # without: all of them
    req = build_request("#!/bin/sh\n#SBATCH -n 4 --gpus-per-task=1\ntrue\n", {}, {}, "/", 0.0)
    assert req.env["SLURM_GPUS_PER_TASK"] == "1" and req.gpus_per_task == 1
    typed = {t.procid: task_environment({"SLURM_GPUS_PER_TASK": "a100:1"}, shares, tasks, t)["CUDA_VISIBLE_DEVICES"]
             for t in tasks}  # fmt: skip
    assert typed == seen  # QA: --gpus-per-task=a100:1 gave every task all the GPUs


def test_node_lists_follow_the_ranks_topology_order_with_rank_0_on_the_first_host() -> None:
    """Tasks run n001:2, n005:2, n003:1 (topology order). Every list a launcher reads (SLURM_JOB_NODELIST, its
    per-node counts, SLURM_NODEID) follows the ranks' order, so the batch shell, rank 0 and node id 0 are the
    first host listed. QA: the lists were sorted (n[001,003,005]) while ranks kept the tree order, so rank 0 of a
    job on n[05,02,06] ran on n05 with SLURM_NODEID=1 and a launcher taking the first host as its master hung;
    an earlier QA had found counts that did not follow the list (two ranks put on n003)."""
    shares = tuple(NodeShare(n, (0, 1), 0) for n in ("n001", "n005", "n003"))
    shares = (*shares[:2], NodeShare("n003", (0,), 0, (), 1))
    env = job_environment(spec(shares=shares, ntasks=5), {})
    assert env["SLURM_JOB_NODELIST"] == env["SLURM_NODELIST"] == env["HAL_NODELIST"] == "n[001,005,003]"
    assert env["SLURM_TASKS_PER_NODE"] == env["HAL_TASKS_PER_NODE"] == "2(x2),1"
    assert env["SLURM_JOB_CPUS_PER_NODE"] == "2(x2),1"
    assert env["SLURMD_NODENAME"] == "n001" and env["SLURM_NODEID"] == "0"
    assert hostlist.expand(env["SLURM_JOB_NODELIST"]) == ["n001", "n005", "n003"]
    tasks = place(shares, 5, 1, "block")
    assert [shares[t.node].node for t in tasks] == ["n001", "n001", "n005", "n005", "n003"]  # ranks: tree order
    step = task_environment(env, shares, tasks, tasks[4])
    assert step["SLURM_STEP_NODELIST"] == "n[001,005,003]" and step["SLURM_STEP_TASKS_PER_NODE"] == "2(x2),1"
    assert (step["SLURMD_NODENAME"], step["SLURM_NODEID"], step["SLURM_PROCID"]) == ("n003", "2", "4")
    assert task_environment(env, shares, tasks, tasks[2])["SLURM_NODEID"] == "1"  # n005: second listed
    late = job_environment(spec(shares=(shares[1], shares[0]), ntasks=2), {})  # the batch shell runs on n005
    assert late["SLURMD_NODENAME"] == "n005" and late["SLURM_NODEID"] == "0"
    assert late["SLURM_JOB_NODELIST"] == "n[005,001]"
    assert hostlist.compress_ordered(["n001", "n002", "n003"]) == "n[001-003]"  # in order: the usual form
    for names in (["n001", "n002", "n005", "n006", "n003"], ["a1", "b1", "a2"], ["gpu9", "gpu10", "gpu8"]):
        assert hostlist.expand(hostlist.compress_ordered(names)) == names


def test_host_lists_have_a_size_limit() -> None:
    """QA: -w 'gp[000-99999999999999999999]' made the server expand the range until it held 17 GB."""
    with pytest.raises(ValueError, match="more than 100,000 hosts"):
        hostlist.expand("gp[000-99999999999999999999]")
    assert len(hostlist.expand("n[00000-99999]")) == 100_000


def test_each_task_gets_its_own_nodes_topology_address_on_a_switch_tree() -> None:
    """Slurm's SLURM_TOPOLOGY_ADDR (the node's switches from the top, then the node) and its _PATTERN, under
    topology/tree; a node in no switch is only itself; a job's own variable of that name is not trusted."""
    import json

    shares = (NodeShare("n05", (0,), 0), NodeShare("n02", (0,), 0))
    addrs = {"n05": ["top", "s0"], "n02": []}
    env = job_environment(spec(shares=shares, ntasks=2, env={"HAL_TOPOLOGY_ADDRS": json.dumps(addrs)}), {})
    assert env["SLURM_TOPOLOGY_ADDR"] == "top.s0.n05" and env["SLURM_TOPOLOGY_ADDR_PATTERN"] == "switch.switch.node"
    tasks = place(shares, 2, 1, "block")
    other = task_environment(env, shares, tasks, tasks[1])
    assert other["SLURM_TOPOLOGY_ADDR"] == "n02" and other["SLURM_TOPOLOGY_ADDR_PATTERN"] == "node"
    assert "SLURM_TOPOLOGY_ADDR" not in job_environment(spec(shares=shares, env={"HAL_TOPOLOGY_ADDRS": "x"}), {})
