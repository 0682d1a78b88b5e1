"""What a job sees: its output file names (Slurm's %j %x %A %a %u %N %% patterns) and its HAL_*/SLURM_* environment."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hal.executors import hostlist
from hal.executors.api import LaunchSpec, NodeShare

NO_ARRAY_INDEX = "4294967294"  # what Slurm prints for %a in a job that is not an array task
_PATTERN = re.compile(r"%(\d*)([%jJxAaNusnt])")
# Variables a job inherits from the executor's own environment when no base environment is given: enough to
# find programs and speak the right locale, nothing that could leak the controller's secrets.
INHERITED = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SHELL", "TERM")


def default_output(spec: LaunchSpec) -> str:
    """Slurm's default: slurm-%j.out, or slurm-%A_%a.out for an array task."""
    return "slurm-%A_%a.out" if spec.array_task_id is not None else "slurm-%j.out"


def expand_pattern(pattern: str, spec: LaunchSpec, node: str = "", task: int = 0) -> str:
    """Expands Slurm's filename patterns; a number after % zero-pads (`%4j` -> 0042), unknown ones stay as typed."""
    node = node or (spec.shares[0].node if spec.shares else "localhost")
    return expand_names(pattern, spec.job_id, spec.name, spec.user, spec.array_job_id, spec.array_task_id, node, task)


def expand_names(
    pattern: str,
    job_id: int,
    name: str,
    user: str,
    array_job: int | None,
    array_task: int | None,
    node: str | None,
    task: int = 0,
) -> str:
    """``expand_pattern`` from the job's parts (the controller names the files before it has a LaunchSpec).
    ``node`` None: the job has no node yet, and %N stays as typed (scontrol's StdOut for a pending job)."""
    values = {
        "%": "%",
        "j": str(job_id),
        "J": f"{job_id}.batch",
        "x": _safe(name or "hal"),
        "A": str(array_job if array_job is not None else job_id),
        "a": str(array_task) if array_task is not None else NO_ARRAY_INDEX,
        "N": _safe(node) if node is not None else "",
        "u": _safe(user),
        "s": "batch",
        "n": "0",
        "t": str(task),
    }

    def one(m: re.Match[str]) -> str:
        if m.group(2) == "N" and node is None:
            return m.group(0)
        value = values[m.group(2)]
        return value.zfill(int(m.group(1))) if m.group(1) and m.group(2) != "%" else value

    return _PATTERN.sub(one, pattern)


def log_files(
    output: str,
    error: str,
    workdir: str,
    job_id: int,
    name: str,
    user: str,
    array_job: int | None,
    array_task: int | None,
    node: str | None,
) -> tuple[str, str]:
    """A batch job's stdout and stderr paths as sbatch names them: slurm-%j.out (slurm-%A_%a.out for an array
    task) by default, stderr into stdout's file, a relative path under the workdir. The controller names them
    at launch and the API for a job not started yet (``node`` None), with this one function so they agree."""
    default = "slurm-%A_%a.out" if array_job is not None else "slurm-%j.out"
    paths = []
    for pattern in (output or default, error or output or default):
        path = Path(expand_names(pattern, job_id, name, user, array_job, array_task, node))
        paths.append(str(path if path.is_absolute() else Path(workdir) / path))
    return paths[0], paths[1]


def input_file(
    pattern: str,
    workdir: str,
    job_id: int,
    name: str,
    user: str,
    array_job: int | None,
    array_task: int | None,
    node: str | None,
) -> str:
    """A batch job's --input file named as ``log_files`` names its output (%N as typed while ``node`` is None, a
    relative path under the workdir); /dev/null without one, as sbatch gives a batch script."""
    if not pattern:
        return "/dev/null"
    path = Path(expand_names(pattern, job_id, name, user, array_job, array_task, node))
    return str(path if path.is_absolute() else Path(workdir) / path)


def _safe(text: str) -> str:
    """A name used inside a path must not climb into other directories."""
    return text.replace("/", "_").replace("\0", "_") or "_"


def output_paths(spec: LaunchSpec) -> tuple[Path, Path]:
    """stdout and stderr files, relative to the working directory; stderr defaults to stdout's file."""
    out = expand_pattern(spec.stdout or default_output(spec), spec)
    err = expand_pattern(spec.stderr, spec) if spec.stderr else out
    workdir = spec.workdir.absolute()
    return workdir / out, workdir / err


def input_path(spec: LaunchSpec) -> Path | None:
    """The file the batch script reads as its stdin (--input), relative to the working directory; None: /dev/null."""
    return spec.workdir.absolute() / expand_pattern(spec.stdin, spec) if spec.stdin else None


def tasks_per_node(shares: Sequence[NodeShare], ntasks: int, cpus_per_task: int, cyclic: bool = False) -> list[int]:
    """How many of ntasks each node runs: every used node gets one, then block fills each node's CPUs in order
    (cyclic deals them round robin); tasks beyond the CPUs are dealt round robin (oversubscription)."""
    if not shares:
        return []
    used = min(len(shares), max(ntasks, 0))
    counts = [1] * used + [0] * (len(shares) - used)
    left = max(ntasks - used, 0)
    if cyclic:
        for i in range(left):
            counts[i % used] += 1
        return counts
    for i in range(used):
        take = min(left, max(shares[i].allocated // max(cpus_per_task, 1), 1) - 1)
        counts[i] += take
        left -= take
    for i in range(left):
        counts[i % used] += 1
    return counts


def shares_json(shares: Sequence[NodeShare]) -> str:
    """The allocation as HAL_JOB_SHARES, which `hal run` reads to place tasks on the job's nodes (and to check a
    step's GPU type against its GPUs', and which GPU variables a task on a node without GPUs keeps)."""
    rows = []
    for s in shares:
        row = {"node": s.node, "cpus": list(s.cpus), "mem_mb": s.mem_mb, "gpus": list(s.gpus), "ncpus": s.allocated}
        known = {"gpu_type": s.gpu_type, "node_gpus": s.node_gpus}  # left out when not known (an older launch)
        rows.append({**row, **{k: v for k, v in known.items() if v is not None}})
    return json.dumps(rows)


def parse_shares(text: str) -> list[NodeShare]:
    out = []
    for d in json.loads(text):
        cpus, gpus = tuple(d["cpus"]), tuple(d.get("gpus", ()))
        mem, ncpus, node_gpus = int(d.get("mem_mb", 0)), int(d.get("ncpus", 0)), d.get("node_gpus")
        out.append(NodeShare(d["node"], cpus, mem, gpus, ncpus, d.get("gpu_type"), node_gpus))
    return out


def base_environment(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The executor's default base for jobs: a few harmless variables, with `hal` (this Python's bin) on PATH."""
    env = {k: v for k, v in (os.environ if source is None else source).items() if k in INHERITED or k.startswith("LC_")}
    path = env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    bindir = str(Path(sys.executable).parent)
    if bindir not in path.split(":"):
        path = f"{path}:{bindir}"  # appended, so a job's `python3` is still the system's
    env["PATH"] = path
    return env


def job_environment(spec: LaunchSpec, base: Mapping[str, str]) -> dict[str, str]:
    """base < the user's exported variables (spec.env) < HAL_* and SLURM_* describing the allocation. On a node
    with GPUs the GPU variables are the allocation's alone: none when the job holds none of them (a CPU job
    submitted from inside a GPU job saw that job's GPUs); see drop_gpu_variables."""
    env = dict(base)
    env.update(spec.env)
    if not spec.restarts:  # a value inherited from a submitting job is not this job's
        env.pop("SLURM_RESTART_COUNT", None)
    drop_gpu_variables(env, spec.shares[0] if spec.shares else None)
    for name in TOPOLOGY_VARIABLES:  # the submitter's node's, when this job's is not known
        env.pop(name, None)
    env.update(slurm_variables(spec))
    return env


def slurm_variables(spec: LaunchSpec) -> dict[str, str]:
    names = [s.node for s in spec.shares]
    first = spec.shares[0] if spec.shares else NodeShare("localhost", ())
    # SLURM_* and HAL_* alike: the nodes in the tasks' (topology) rank order, with the per-node counts and node
    # ids following it, so the batch shell, rank 0 and node id 0 are the first host listed (launchers take it as
    # the master address); it is the sorted list hal show prints wherever node names follow the topology
    nodelist = hostlist.compress_ordered(names)
    per_node = tasks_per_node(spec.shares, spec.ntasks, spec.cpus_per_task)
    submit_dir = str((spec.submit_dir or spec.workdir).absolute())
    v: dict[str, str] = {
        "JOB_ID": str(spec.job_id),
        "JOB_NAME": spec.name,
        "NODELIST": nodelist,
        "NNODES": str(len(names)),
        "NTASKS": str(spec.ntasks),
        "CPUS_PER_TASK": str(spec.cpus_per_task),
        "SUBMIT_DIR": submit_dir,
        "PARTITION": spec.partition,
        "ACCOUNT": spec.account,
        "JOB_USER": spec.user,
        "NODENAME": first.node,
        "PROCID": "0",
        "LOCALID": "0",
        "NODEID": "0",
    }
    if first.mem_mb > 0:
        v["MEM_PER_NODE"] = str(first.mem_mb)
    if spec.array_task_id is not None:
        v["ARRAY_JOB_ID"] = str(spec.array_job_id if spec.array_job_id is not None else spec.job_id)
        v["ARRAY_TASK_ID"] = str(spec.array_task_id)
    env = {f"HAL_{k}": val for k, val in v.items()}
    env["HAL_JOB_SHARES"] = shares_json(spec.shares)
    env["HAL_TASKS_PER_NODE"] = hostlist.counts(per_node)
    slurm = {
        "SLURM_JOB_ID": v["JOB_ID"],
        "SLURM_JOBID": v["JOB_ID"],
        "SLURM_JOB_NAME": v["JOB_NAME"],
        "SLURM_JOB_NODELIST": nodelist,
        "SLURM_NODELIST": nodelist,
        "SLURM_JOB_NUM_NODES": v["NNODES"],
        "SLURM_NNODES": v["NNODES"],
        "SLURM_NTASKS": v["NTASKS"],
        "SLURM_NPROCS": v["NTASKS"],
        "SLURM_CPUS_PER_TASK": v["CPUS_PER_TASK"],
        "SLURM_CPUS_ON_NODE": str(first.allocated),
        "SLURM_JOB_CPUS_PER_NODE": hostlist.counts([share.allocated for share in spec.shares]),
        "SLURM_TASKS_PER_NODE": env["HAL_TASKS_PER_NODE"],
        "SLURM_SUBMIT_DIR": submit_dir,
        "SLURM_SUBMIT_HOST": socket.gethostname(),
        "SLURM_JOB_PARTITION": spec.partition,
        "SLURM_JOB_ACCOUNT": spec.account,
        "SLURM_JOB_USER": spec.user,
        "SLURMD_NODENAME": first.node,
        "SLURM_NODEID": "0",  # the batch shell's node: the first share, the first host listed
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "ENVIRONMENT": "BATCH",
    }
    slurm.update(topology_variables(spec.env, first.node))
    if spec.restarts:  # set only once the job has been requeued, as sbatch does (a script tests it with -n)
        slurm["SLURM_RESTART_COUNT"] = str(spec.restarts)
    for key in ("MEM_PER_NODE", "ARRAY_JOB_ID", "ARRAY_TASK_ID"):
        if key in v:
            slurm[f"SLURM_{key}"] = v[key]
    env.update(slurm)
    env.update(gpu_variables(first.gpus))
    return env


# The entry of HAL_TOPOLOGY_ADDRS (no node's name) naming the kind of its domains: ["switch"] or ["block"]. With
# it, a node not listed is in none; a map without it (a job launched before it existed) lists every node.
ADDR_KIND = "@kind"
TOPOLOGY_VARIABLES = ("SLURM_TOPOLOGY_ADDR", "SLURM_TOPOLOGY_ADDR_PATTERN")


def topology_variables(env: Mapping[str, str], node: str) -> dict[str, str]:
    """SLURM_TOPOLOGY_ADDR (the node's domains from the top, then itself: ``top.s1.n05`` on a switch tree,
    ``b1.n05`` on blocks, ``n05`` alone) and SLURM_TOPOLOGY_ADDR_PATTERN (``switch.switch.node``,
    ``block.node``, ``node``), from the addresses the controller gave (HAL_TOPOLOGY_ADDRS)."""
    try:
        addrs = json.loads(env["HAL_TOPOLOGY_ADDRS"]) if "HAL_TOPOLOGY_ADDRS" in env else None
        if not isinstance(addrs, dict):
            return {}
        kind = addrs.get(ADDR_KIND, ["switch"])
        domains = addrs.get(node, []) if ADDR_KIND in addrs else addrs[node]
    except (ValueError, KeyError):  # a job's own variable of that name, or a node not listed
        return {}
    if not isinstance(domains, list) or not all(isinstance(x, str) for x in domains):
        return {}
    if not isinstance(kind, list) or len(kind) != 1 or not isinstance(kind[0], str):
        return {}
    kinds = kind * len(domains) + ["node"]
    return {"SLURM_TOPOLOGY_ADDR": ".".join([*domains, node]), "SLURM_TOPOLOGY_ADDR_PATTERN": ".".join(kinds)}


# Every variable that names a job's or step's GPUs: the vendors' that Slurm sets from the GPUs' list, and its own
# (with HAL_GPUS, SLURM_STEP_GPUS for a step) that name them. Slurm unsets them where the job or step holds no GPU
# on the node (gres_common_gpu_set_env), so a value from the submitter, or from another node, never leaks in.
VENDOR_GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "ZE_AFFINITY_MASK", "GPU_DEVICE_ORDINAL")
GPU_VARIABLES = (*VENDOR_GPU_VARIABLES, "SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "SLURM_GPUS_ON_NODE", "HAL_GPUS")


def drop_gpu_variables(env: dict[str, str], share: NodeShare | None, gpu_node: bool | None = None) -> None:
    """Removes the GPU variables a job or task inherited; the caller then sets its own (gpu_variables). Slurm's
    own (SLURM_JOB_GPUS, ...; HAL_GPUS) always, as Slurm does on a cluster with GPUs; the vendors'
    (CUDA_VISIBLE_DEVICES, ...) only on a node with GPUs configured (``share.node_gpus``, else ``gpu_node``;
    not known: taken as one), as Slurm unsets those by the node's gres.conf: on a cluster without GPUs
    ``CUDA_VISIBLE_DEVICES=1 hal submit`` keeps the job on GPU 1 (it saw every GPU of the machine)."""
    if share is not None and share.node_gpus is not None:
        gpu_node = share.node_gpus > 0
    for name in GPU_VARIABLES if gpu_node is not False else GPU_VARIABLES[len(VENDOR_GPU_VARIABLES) :]:
        env.pop(name, None)


def gpu_variables(gpus: Sequence[int]) -> dict[str, str]:
    """The variables naming a share's GPUs; none without GPUs (callers drop inherited ones: drop_gpu_variables).
    Every vendor's variable names the same list, as Slurm's gpu plugin sets them without gres.conf env flags: a ROCm
    or oneAPI program saw every GPU of the machine (HAL unset those and set CUDA's alone)."""
    if not gpus:
        return {}
    ids = ",".join(str(g) for g in gpus)
    vendors = dict.fromkeys(VENDOR_GPU_VARIABLES, ids)
    return {**vendors, "SLURM_JOB_GPUS": ids, "SLURM_GPUS_ON_NODE": str(len(gpus)), "HAL_GPUS": ids}
