"""GPU requests of a submission on HAL's per-task model: --gres/--gpus/--gpus-per-node/--gpus-per-task as each task's
GPUs, and the options sized by GPUs (--cpus-per-gpu, --mem-per-gpu, --ntasks-per-gpu, --tres-per-task)."""

from __future__ import annotations

import re

from hal.controller.option_values import MAX_COUNT, DirectiveError, int_option, mem_option
from hal.controller.script_options import PER_GPU as PER_GPU

GPU_OPTIONS = ("gres", "gpus", "gpus-per-node", "gpus-per-task")
GPU_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def gpus_per_task(options: dict[str, str], tasks: int, nodes: int | None, per_node: int | None = None) -> int:
    """GPUs each task gets, from the one GPU option given: --gres=gpu:N and --gpus-per-node=N per node,
    --gpus/-G=N for the job, --gpus-per-task=N. A -N job's per-node GPUs that its tasks do not divide are held
    whole on each node and shared by its tasks (0 per task). Otherwise HAL gives GPUs to tasks, so a count that
    does not divide evenly over them is refused rather than rounded up (a job charged, and holding, GPUs it never
    asked for)."""
    given = [k for k in GPU_OPTIONS if k in options]
    if not given:
        return 0
    if len(given) > 1:
        raise DirectiveError(f"--{given[0]} and --{given[1]}: ask for GPUs with one of them")
    key = given[0]
    text = options[key]
    count = int(gpu_parts(key, text)[1])  # digits only: never negative
    if key == "gpus-per-task":
        return count
    if key in ("gres", "gpus-per-node") and nodes is not None and (tasks % nodes or count % (tasks // nodes)):
        return 0  # held whole on each node (node_gpus), shared by its tasks: none is any one task's
    if key in ("gres", "gpus-per-node") and nodes is None:  # per node, on nodes not yet known
        if per_node is None and tasks > 1:
            raise DirectiveError(
                f"--{key}={text} asks GPUs per node: give -N (or --ntasks-per-node) so the nodes are known; HAL gives "
                "each task an equal share"
            )
        nodes, tasks = 1, per_node or 1  # one node's tasks share its GPUs
    total = count * (nodes or 1) if key in ("gres", "gpus-per-node") else count
    if total % tasks:
        raise DirectiveError(
            f"--{key}={text}: {total} GPUs over {tasks} tasks; HAL gives each task the same GPUs, so ask for a "
            "multiple of the task count (or --gpus-per-task)"
        )
    return total // tasks


ASKED = {"gpus": "job", "gres": "node", "gpus-per-node": "node", "gpus-per-task": "task"}


def gpus_asked(options: dict[str, str]) -> str:
    """How the GPUs were asked, as Slurm keeps it (TresPerJob, TresPerNode, TresPerTask): "job", "node" or "task"
    ("" for none). --tres-per-task and --ntasks-per-gpu have become --gpus-per-task by now. Kept with the request:
    HAL's own split (gpus_per_task) of a one-task --gres job is the same, and the job's environment is the
    submitter's (a --gres job submitted inside a --gpus-per-task job carries its SLURM_GPUS_PER_TASK)."""
    return next((ASKED[k] for k in GPU_OPTIONS if k in options), "")


def node_gpus(options: dict[str, str]) -> int:
    """GPUs every node holds when they were asked per node (--gpus-per-node=N, --gres=gpu:N); else 0."""
    key = next((k for k in ("gres", "gpus-per-node") if k in options), None)
    return int(gpu_parts(key, options[key])[1]) if key is not None else 0


def gpu_parts(key: str, text: str) -> tuple[str, str]:
    """(GPU type or "", count) of --gres=gpu[:TYPE][:N] or --gpus[-per-*]=[TYPE:]N (gpu:a100 is one a100)."""
    parts = text.split(":")
    if key == "gres":
        if "," in text or parts[0] != "gpu" or len(parts) > 3:
            raise DirectiveError(f"--gres={text!r}: only gpu[:TYPE][:N] is supported (one resource, GPUs)")
        parts = parts[1:] or ["1"]
        if len(parts) == 1 and not parts[0].isdigit():
            parts.append("1")
    if len(parts) > 2 or not parts[-1].isdigit() or (len(parts) == 2 and not GPU_TYPE.fullmatch(parts[0])):
        raise DirectiveError(f"--{key}={text!r}: give a whole count, with a GPU type before it if any (a100:2)")
    if int(parts[-1]) > MAX_COUNT:
        raise DirectiveError(f"--{key}={text}: too many GPUs (at most {MAX_COUNT:,})")
    return (parts[0] if len(parts) == 2 else "", parts[-1])


def gpu_type(options: dict[str, str]) -> str:
    """The GPU type asked for ("a100"; "": any). Part of the GPU request, as in Slurm, not of --constraint: the
    engine asks for the node feature gpu:a100 (nodes of ``gpu_type = "a100"``) on top of the constraint, so
    `hal update Features=` never drops it."""
    key = next((k for k in GPU_OPTIONS if k in options), None)
    return gpu_parts(key, options[key])[0] if key is not None else ""


def tres_per_task(options: dict[str, str]) -> None:
    """--tres-per-task=cpu=N[,gres/gpu[:TYPE]=M] as the --cpus-per-task and --gpus-per-task it means (Slurm
    turns those two into it); other TRES are refused rather than dropped."""
    text = options.get("tres-per-task")
    if text is None:
        return
    for item in text.split(","):
        name, eq, value = item.strip().partition("=")
        name = name.strip().lower().replace("gres:gpu", "gres/gpu")
        if not eq or not value.strip().isdigit():
            raise DirectiveError(f"--tres-per-task={text}: give NAME=COUNT items, e.g. cpu=8,gres/gpu=1")
        if name == "cpu":
            key, given = "cpus-per-task", value.strip()
        elif name == "gres/gpu" or name.startswith("gres/gpu:"):
            kind = name.partition(":")[2]
            key, given = "gpus-per-task", f"{kind}:{value.strip()}" if kind else value.strip()
        else:
            raise DirectiveError(f"--tres-per-task={text}: HAL reads cpu= and gres/gpu[:TYPE]= only (not {name!r})")
        clash = [k for k in ((key,) if key == "cpus-per-task" else GPU_OPTIONS) if k in options]
        if clash:
            raise DirectiveError(f"--tres-per-task={text} and --{clash[0]} both set it; give one of them")
        options[key] = given


def ntasks_per_gpu(options: dict[str, str], tasks: int | None, nodes: int | None) -> int | None:
    """--ntasks-per-gpu=N: the job's task count (N per GPU) when -n is not given; with -n, one GPU per N tasks.
    HAL gives each task whole GPUs, so only N=1 (a rank per GPU, the usual use) can be honoured: tasks sharing
    one GPU would each be charged for a whole one."""
    per = int_option(options, "ntasks-per-gpu", None)
    if per is None:
        return tasks
    if per != 1:
        raise DirectiveError(
            f"--ntasks-per-gpu={per}: HAL gives each task whole GPUs, so tasks cannot share one; use "
            "--ntasks-per-gpu=1 (a task per GPU) and start several processes in each task"
        )
    for clash in ("gpus-per-task", "ntasks-per-node"):  # as sbatch refuses them together
        if clash in options:
            raise DirectiveError(f"--ntasks-per-gpu and --{clash} cannot be used together (sbatch says the same)")
    key = next((k for k in GPU_OPTIONS if k in options), None)
    if key is None:
        if tasks is None:
            raise DirectiveError("--ntasks-per-gpu needs GPUs (--gpus, --gres or --gpus-per-node) or -n")
        options["gpus-per-task"] = "1"  # sbatch: -n with --ntasks-per-gpu asks for the GPUs the tasks need
        return tasks
    count = int(gpu_parts(key, options[key])[1])
    total = count * (nodes or 1) if key in ("gres", "gpus-per-node") else count
    if tasks is not None and tasks != total:
        raise DirectiveError(f"-n {tasks} with --ntasks-per-gpu=1 and --{key}={options[key]} ({total} GPUs)")
    return total


def per_gpu(options: dict[str, str], gpus: int, cpus: int | None) -> tuple[int | None, int | None]:
    """(CPUs, MB of memory) each task gets from --cpus-per-gpu and --mem-per-gpu (None when not given)."""
    asked = [k for k in ("cpus-per-gpu", "mem-per-gpu") if k in options]
    if asked and not gpus and not node_gpus(options):
        raise DirectiveError(f"--{asked[0]} needs GPUs (--gpus, --gres, --gpus-per-node or --gpus-per-task)")
    if asked and not gpus:  # QA: it said no GPUs were asked for
        raise DirectiveError(
            f"--{asked[0]} with GPUs held per node and shared by the node's tasks (the tasks do not divide them): "
            "HAL sizes tasks by their own GPUs, so give -c / --mem-per-cpu, or a task count that divides the GPUs"
        )
    if "cpus-per-gpu" in options and cpus is not None:
        raise DirectiveError("--cpus-per-gpu and --cpus-per-task are mutually exclusive (sbatch says the same)")
    per_cpu = int_option(options, "cpus-per-gpu", None)
    mem = mem_option(options, "mem-per-gpu")
    return (per_cpu * gpus if per_cpu else None, mem * gpus if mem is not None else None)
