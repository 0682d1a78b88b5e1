"""A pending job's --gpus/-G total kept through `hal update` of its node or task count. Slurm holds it for the
whole job (TresPerJob); HAL gives GPUs to tasks, so the total is spread again over the new tasks by submission's
rules, with its refusal. Each task kept its old share: NumNodes=4 on -N2 --gpus=8 asked for 16 GPUs, and
NumNodes=3, which submission refuses (8 over 3 tasks), was taken."""

from __future__ import annotations

import dataclasses

from hal.controller.directives import JobRequest
from hal.controller.gpu_options import gpus_per_task


def respread(req: JobRequest) -> JobRequest:
    """``req`` with its --gpus total over its tasks, and what --cpus-per-gpu, --mem-per-gpu (and --mem-per-cpu
    on those CPUs) made of each task's GPUs sized again; a DirectiveError where sbatch would refuse it."""
    if not req.gpus_per_job:
        return req
    text = f"{req.gpu_kind}:{req.gpus_per_job}" if req.gpu_kind else str(req.gpus_per_job)
    each = gpus_per_task({"gpus": text}, req.tasks, req.nodes)
    if each == req.gpus_per_task:
        return req
    old, env = req.gpus_per_task, req.env  # the per-GPU options as the job is told them (controller/request_env.py)

    def per(var: str, now: int) -> int | None:  # if it made what each task has (not a submitter's own variable)
        value = env.get(var, "")
        return int(value) if value.isdigit() and int(value) * old == now else None

    cpus, mem = req.cpus_per_task, req.mem_per_task_mb
    if (per_cpu := per("SLURM_CPUS_PER_GPU", cpus)) is not None:
        cpus = per_cpu * each
    if (mem_gpu := per("SLURM_MEM_PER_GPU", mem)) is not None:
        mem = mem_gpu * each
    elif (mem_cpu := env.get("SLURM_MEM_PER_CPU", "")).isdigit() and int(mem_cpu) * req.cpus_per_task == mem:
        mem = int(mem_cpu) * cpus  # --mem-per-cpu on CPUs sized by GPUs
    return dataclasses.replace(req, gpus_per_task=each, cpus_per_task=cpus, mem_per_task_mb=mem)
