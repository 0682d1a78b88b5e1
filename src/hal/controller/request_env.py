"""What a job's environment gets from its options: --export, and the variables Slurm sets from the request
(GPUs, the array's shape, tasks per node, memory per CPU, QOS)."""

from __future__ import annotations

import itertools

from hal.controller.option_values import mem_option

SECRETS = ("HAL_TOKEN",)  # the client's bearer token: the database keeps only digests of tokens


def without_secrets(env: dict[str, str]) -> dict[str, str]:
    """The submitter's environment without HAL's credentials: it is stored with the job (and exported to it)."""
    return {k: v for k, v in env.items() if k not in SECRETS}


def export_env(text: str, env: dict[str, str]) -> dict[str, str]:
    """--export: ALL (default), NONE, or a list of NAME or NAME=value, optionally after ALL."""
    items = [x for x in text.split(",") if x]
    keep_all = not items or items[0] == "ALL"
    out = dict(env) if keep_all else {}
    if "SLURM_UMASK" in env:  # sbatch passes it whatever --export says (QA: NONE made output files 0644)
        out["SLURM_UMASK"] = env["SLURM_UMASK"]
    for item in items:
        if item in ("ALL", "NONE"):
            continue
        name, eq, value = item.partition("=")
        if eq:
            out[name] = value
        elif name in env:
            out[name] = env[name]
    return out


def gpu_env(options: dict[str, str]) -> dict[str, str]:
    """The job's GPU request as Slurm tells it to the job (SLURM_GPUS_PER_TASK makes `hal run` give each task
    its own GPUs, as Slurm binds them with --gpus-per-task)."""
    names = {"gpus-per-task": "SLURM_GPUS_PER_TASK", "gpus-per-node": "SLURM_GPUS_PER_NODE", "gpus": "SLURM_GPUS"}
    names |= {"cpus-per-gpu": "SLURM_CPUS_PER_GPU", "ntasks-per-gpu": "SLURM_NTASKS_PER_GPU"}
    names |= {"tres-per-task": "SLURM_TRES_PER_TASK"}
    out = {var: options[key] for key, var in names.items() if key in options}
    if "mem-per-gpu" in options:  # in MB, as Slurm sets it
        out["SLURM_MEM_PER_GPU"] = str(mem_option(options, "mem-per-gpu"))
    return out


def request_env(options: dict[str, str], array: list[int] | None) -> dict[str, str]:
    """Variables Slurm sets from the request itself: the array's shape, tasks per node, memory per CPU, QOS."""
    out = {"SLURM_JOB_QOS": options.get("qos", "normal")}
    if "ntasks-per-node" in options:
        out["SLURM_NTASKS_PER_NODE"] = options["ntasks-per-node"]
    if "mem-per-cpu" in options:
        out["SLURM_MEM_PER_CPU"] = str(mem_option(options, "mem-per-cpu"))
    if array:
        step = min((b - a for a, b in itertools.pairwise(array)), default=1)
        shape = {"COUNT": len(array), "MIN": array[0], "MAX": array[-1], "STEP": step}
        out |= {f"SLURM_ARRAY_TASK_{k}": str(v) for k, v in shape.items()}
    return out
