"""`hal submit`: sbatch for HAL; reads #SBATCH/#HAL directives, command-line options win."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Annotated

import typer

from hal.cli.common import fail, out
from hal.cli.live import JsonOpt, client, emit_json

Opt = typer.Option


def submit(
    script: Annotated[Path | None, typer.Argument(help="batch script; omit with --wrap")] = None,
    wrap: Annotated[str | None, Opt(help="run this shell command as the job's script")] = None,
    job_name: Annotated[str | None, Opt("--job-name", "-J")] = None,
    nodes: Annotated[str | None, Opt("--nodes", "-N")] = None,
    ntasks: Annotated[int | None, Opt("--ntasks", "-n")] = None,
    ntasks_per_node: Annotated[int | None, Opt("--ntasks-per-node")] = None,
    cpus_per_task: Annotated[int | None, Opt("--cpus-per-task", "-c")] = None,
    mem: Annotated[str | None, Opt("--mem", help="memory per node, e.g. 4G")] = None,
    mem_per_cpu: Annotated[str | None, Opt("--mem-per-cpu")] = None,
    gres: Annotated[str | None, Opt("--gres", help="gpu:N per node")] = None,
    gpus: Annotated[str | None, Opt("--gpus", "-G", help="GPUs for the job, spread evenly over its tasks")] = None,
    gpus_per_node: Annotated[str | None, Opt("--gpus-per-node")] = None,
    gpus_per_task: Annotated[str | None, Opt("--gpus-per-task")] = None,
    constraint: Annotated[str | None, Opt("--constraint", "-C", help="node features, all of them: a&b")] = None,
    nodelist: Annotated[str | None, Opt("--nodelist", "-w", help="run on these nodes only, e.g. vn[000-001]")] = None,
    time: Annotated[str | None, Opt("--time", "-t", help="limit: M, H:M:S, D-H:M:S")] = None,
    partition: Annotated[str | None, Opt("--partition", "-p")] = None,
    account: Annotated[str | None, Opt("--account", "-A")] = None,
    qos: Annotated[str | None, Opt("--qos", "-q")] = None,
    output: Annotated[str | None, Opt("--output", "-o", help="stdout file; %j %x %A %a %u %N")] = None,
    error: Annotated[str | None, Opt("--error", "-e")] = None,
    dependency: Annotated[
        str | None, Opt("--dependency", "-d", help="afterok|afterany|afternotok|after:ID[:ID]")
    ] = None,
    array: Annotated[str | None, Opt("--array", "-a", help="e.g. 0-99%10")] = None,
    begin: Annotated[str | None, Opt("--begin", "-b", help="now+60, HH:MM or an ISO time")] = None,
    requeue: Annotated[bool, Opt("--requeue", help="requeue after a node failure")] = False,
    exclusive: Annotated[bool, Opt("--exclusive")] = False,
    hold: Annotated[bool, Opt("--hold", "-H", help="submit held: it starts only after hal release")] = False,
    chdir: Annotated[str | None, Opt("--chdir", "-D")] = None,
    export: Annotated[str | None, Opt("--export", help="ALL (default), NONE, or NAME[=value],...")] = None,
    input_data: Annotated[str | None, Opt("--input-data", help="datasets staged to $HAL_DATA/<name>: A,B")] = None,
    output_data: Annotated[str | None, Opt("--output-data", help="datasets the job writes to $HAL_DATA")] = None,
    switches: Annotated[
        str | None,
        Opt(
            "--switches",
            help="N or N@maxwait: at most N leaf switches, waiting up to maxwait (minutes, MM:SS or HH:MM:SS)",
        ),
    ] = None,
    segment: Annotated[int | None, Opt("--segment", help="groups of N nodes each inside one block")] = None,
    topology: Annotated[str | None, Opt("--topology", help="required=LEVEL or preferred=LEVEL")] = None,
    idempotency_key: Annotated[str | None, Opt(help="retrying with the same key never submits twice")] = None,
    parsable: Annotated[bool, Opt("--parsable", help="print only the job id")] = False,
    json_out: bool = JsonOpt,
) -> None:
    """Submit a batch script, as sbatch does: prints 'Submitted batch job ID'."""
    if script is None and wrap is None:
        raise fail("give a script file or --wrap 'command'")
    text = ""
    if script is not None:
        try:
            data = script.read_bytes()
        except OSError as exc:
            raise fail(f"cannot read {script}: {exc.strerror}") from None
        if b"\x00" in data:
            raise fail(f"{script} looks binary (it contains NUL bytes); submit a text script")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise fail(f"{script} is not UTF-8 text") from None
    values = {
        "job-name": job_name, "nodes": nodes, "ntasks": ntasks, "ntasks-per-node": ntasks_per_node,
        "cpus-per-task": cpus_per_task, "mem": mem, "mem-per-cpu": mem_per_cpu, "gres": gres, "gpus": gpus,
        "gpus-per-node": gpus_per_node, "gpus-per-task": gpus_per_task, "constraint": constraint,
        "nodelist": nodelist,
        "time": time, "partition": partition, "account": account, "qos": qos, "output": output, "error": error,
        "dependency": dependency, "array": array, "begin": begin, "requeue": requeue or None,
        "exclusive": exclusive or None, "hold": hold or None, "chdir": chdir, "export": export,
    }  # fmt: skip
    placement = {"input-data": input_data, "output-data": output_data, "switches": switches, "segment": segment}
    values.update({**placement, "topology": topology})
    options = {k: v for k, v in values.items() if v is not None}
    if script is not None and job_name is None and not _names_itself(text):
        options["job-name"] = script.name  # sbatch's default: the script's file name
    with client() as c:
        done = c.submit(
            text,
            wrap=wrap,
            options=options,
            env=dict(os.environ),
            workdir=str(Path(chdir).resolve()) if chdir else os.getcwd(),
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
    if json_out:
        emit_json(done)
    elif parsable:
        typer.echo(done["job_id"])
    else:
        out.print(f"Submitted batch job {done['job_id']}", highlight=False)


def _names_itself(text: str) -> bool:
    """Whether the script's own directives set the job name (then it wins over the file name)."""
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        if head in ("#SBATCH", "#HAL") and re.search(r"(^|\s)(--job-name\b|-J)", rest):
            return True
    return False
