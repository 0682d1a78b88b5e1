"""`hal submit`: sbatch for HAL; reads #SBATCH/#HAL directives, command-line options win."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperCommand

from hal.cli.common import err, fail, out
from hal.cli.host_file import host_file
from hal.cli.live import JsonOpt, client, emit_json, stamp
from hal.cli.switch_env import switch_wait as switch_wait  # where callers look for it
from hal.cli.switch_env import switches_from_env
from hal.sbatch_ignored import IGNORED_ENV, IGNORED_FLAGS, IGNORED_SHORT, IGNORED_VALUED
from hal.utf8 import is_text

MAX_SCRIPT = 4 * 1024 * 1024  # the server's limit (controller/directives.py), sbatch's default max_script_size

Opt = typer.Option
CONTEXT = {"allow_interspersed_args": False}  # sbatch: what follows the script is the script's, options too


IGNORED = "--ignored-option"  # hidden, repeated: NAME or NAME=VALUE


class SubmitCommand(TyperCommand):
    """sbatch's --exclusive takes an optional value only after '=' (--exclusive=user): a click flag refuses one,
    and an option with an optional value would take the script's name as it. Before the script, the '=' form
    becomes the hidden --exclusive-mode=VALUE, and the options HAL does not act on (--hint=..., -s, -vv) the
    hidden --ignored-option=NAME[=VALUE]; words after the script are the script's own and stay as typed."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        valued = {n for p in self.params if isinstance(p, click.Option) and not p.is_flag for n in p.opts}
        words, i = list(args), 0
        while i < len(words) and words[i].startswith("-") and words[i] not in ("-", "--"):
            word = words[i]
            if word.startswith("--exclusive="):
                words[i] = "--exclusive-mode=" + word.partition("=")[2]
            elif word in valued:
                i += 1  # its value is the next word
            else:
                ignored = _ignored(word, words[i + 1] if i + 1 < len(words) else None)
                if ignored is not None:
                    names, took = ignored
                    words[i : i + 1 + took] = [f"{IGNORED}={n}" for n in names]
                    i += len(names) - 1
            i += 1
        return super().parse_args(ctx, words)


def _ignored(word: str, after: str | None) -> tuple[list[str], int] | None:
    """An option word HAL accepts and does not act on as (NAME or NAME=VALUE for each, words its value took from
    after it), None for any other word."""
    if word.startswith("--"):
        name, eq, value = word[2:].partition("=")
        if name in IGNORED_FLAGS:
            if eq:  # as a #SBATCH line says it
                raise click.BadOptionUsage(word, f"Option '--{name}' does not take a value.")
            return [name], 0
        if name not in IGNORED_VALUED:
            return None
    elif IGNORED_SHORT.get(word[1:2]) in IGNORED_VALUED:  # -M CLUSTER, -MCLUSTER, -m block
        name, eq, value = IGNORED_SHORT[word[1]], "=" if len(word) > 2 else "", word[2:].lstrip("=")
    elif len(word) > 1 and all(IGNORED_SHORT.get(ch) in IGNORED_FLAGS for ch in word[1:]):
        return [IGNORED_SHORT[ch] for ch in word[1:]], 0  # -s, -vv: flags, as click joins them
    else:
        return None
    if eq:
        return [f"{name}={value}"], 0
    if after is None:
        raise click.BadOptionUsage(word, f"Option '{word}' requires an argument.")
    return [f"{name}={after}"], 1


COMMAND_CLASS = SubmitCommand


def submit(
    script: Annotated[Path | None, typer.Argument(help="batch script; omit with --wrap or pipe it in")] = None,
    script_args: Annotated[list[str] | None, typer.Argument(help="the script's arguments ($1, $2, ...)")] = None,
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
    cpus_per_gpu: Annotated[
        int | None, Opt("--cpus-per-gpu", help="CPUs per GPU: each task's are N x its GPUs")
    ] = None,
    mem_per_gpu: Annotated[str | None, Opt("--mem-per-gpu", help="memory per GPU, e.g. 16G, per task's GPUs")] = None,
    ntasks_per_gpu: Annotated[int | None, Opt("--ntasks-per-gpu", help="1: a task per GPU (HAL's only value)")] = None,
    tres_per_task: Annotated[str | None, Opt("--tres-per-task", help="cpu=N[,gres/gpu=M] per task")] = None,
    constraint: Annotated[str | None, Opt("--constraint", "-C", help="node features, all of them: a&b")] = None,
    nodelist: Annotated[str | None, Opt("--nodelist", "-w", help="run on these nodes only, e.g. vn[000-001]")] = None,
    exclude: Annotated[str | None, Opt("--exclude", "-x", help="never on these nodes, e.g. vn[002-003]")] = None,
    time: Annotated[str | None, Opt("--time", "-t", help="limit: MM, HH:MM:SS, D-HH:MM:SS or UNLIMITED")] = None,
    time_min: Annotated[
        str | None, Opt("--time-min", help="backfill may start the job sooner with its limit lowered to no less")
    ] = None,
    partition: Annotated[str | None, Opt("--partition", "-p")] = None,
    account: Annotated[str | None, Opt("--account", "-A")] = None,
    qos: Annotated[str | None, Opt("--qos", "-q")] = None,
    output: Annotated[str | None, Opt("--output", "-o", help="stdout file; %j %x %A %a %u %N")] = None,
    error: Annotated[str | None, Opt("--error", "-e")] = None,
    input_file: Annotated[
        str | None,
        Opt("--input", "-i", help="connect the batch script's standard input to this file (a pattern like --output)"),
    ] = None,
    dependency: Annotated[
        str | None,
        Opt(
            "--dependency",
            "-d",
            help="afterok|afterany|afternotok|aftercorr|after:ID[:ID], after:ID+MIN, ID (afterany:ID) or "
            "singleton; ',' all of, '?' any of",
        ),
    ] = None,
    array: Annotated[str | None, Opt("--array", "-a", help="e.g. 0-99%10")] = None,
    begin: Annotated[str | None, Opt("--begin", "-b", help="now+60, HH:MM or an ISO time")] = None,
    requeue: Annotated[bool, Opt("--requeue", help="requeue after a node failure")] = False,
    no_requeue: Annotated[bool, Opt("--no-requeue", help="never requeue (the default)")] = False,
    nice: Annotated[int | None, Opt("--nice", help="lower this job's priority by N (admins: may be negative)")] = None,
    comment: Annotated[str | None, Opt("--comment", help="free text kept with the job (hal show, history)")] = None,
    open_mode: Annotated[str | None, Opt("--open-mode", help="append|truncate (default) the output files")] = None,
    signal: Annotated[
        str | None, Opt("--signal", help="[B:]SIG[@SECONDS]: warn the job SECONDS (60) before its time limit")
    ] = None,
    mail_type: Annotated[str | None, Opt("--mail-type", help="accepted for Slurm scripts; HAL sends no mail")] = None,
    mail_user: Annotated[str | None, Opt("--mail-user", help="accepted for Slurm scripts; HAL sends no mail")] = None,
    wait: Annotated[bool, Opt("--wait", "-W", help="return when the job ends, with its exit code")] = False,
    test_only: Annotated[bool, Opt("--test-only", help="check it and forecast its start; submit nothing")] = False,
    kill_on_invalid_dep: Annotated[
        str | None, Opt("--kill-on-invalid-dep", help="yes: cancel it once a dependency can never be met")
    ] = None,
    exclusive: Annotated[
        bool,
        Opt(
            "--exclusive",
            help="whole nodes; =user: share nodes with your own jobs only; =mcs: the same (HAL has no MCS labels); "
            "=topo: no other job in the blocks it uses (whole nodes on a cluster without blocks)",
        ),
    ] = False,
    exclusive_mode: Annotated[str | None, Opt("--exclusive-mode", hidden=True)] = None,  # --exclusive=VALUE
    ignored: Annotated[list[str] | None, Opt(IGNORED, hidden=True)] = None,  # --hint=..., -s: see SubmitCommand
    hold: Annotated[bool, Opt("--hold", "-H", help="submit held: it starts only after hal release")] = False,
    chdir: Annotated[str | None, Opt("--chdir", "-D")] = None,
    export: Annotated[str | None, Opt("--export", help="ALL (default), NONE, or NAME[=value],...")] = None,
    input_data: Annotated[
        list[str] | None, Opt("--input-data", metavar="NAME[,NAME]", help="datasets staged to $HAL_DATA/<name>")
    ] = None,
    output_data: Annotated[
        list[str] | None,
        Opt("--output-data", metavar="NAME[,NAME]", help="datasets the job writes to $HAL_DATA (files or folders)"),
    ] = None,
    switches: Annotated[
        str | None,
        Opt(
            "--switches",
            help="N or N@maxwait: at most N leaf switches, waiting up to maxwait (minutes, MM:SS or HH:MM:SS)",
        ),
    ] = None,
    segment: Annotated[int | None, Opt("--segment", help="groups of N nodes each inside one block")] = None,
    topology: Annotated[
        str | None,
        Opt("--topology", help="required=LEVEL, preferred=LEVEL, or none (no constraint, over the script's too)"),
    ] = None,
    idempotency_key: Annotated[str | None, Opt(help="retrying with the same key never submits twice")] = None,
    parsable: Annotated[bool, Opt("--parsable", help="print only the job id")] = False,
    json_out: bool = JsonOpt,
) -> None:
    """Submit a batch script, as sbatch does: prints 'Submitted batch job ID'.

    sbatch's hints, binding and accounting options (--hint, --contiguous, -s/--oversubscribe: HAL's
    jobs share nodes unless --exclusive, never CPUs, ...) are accepted, as in #SBATCH lines, with a note that
    HAL does not act on them."""
    if wrap is not None and script is not None:  # the 'script' word is an argument the wrapped command cannot take
        raise fail("script arguments are not permitted with --wrap (sbatch says the same)")
    text = ""
    if script is None and wrap is None:
        if sys.stdin.isatty():
            raise fail("give a script file, --wrap 'command', or the script on standard input")
        data = sys.stdin.buffer.read()  # sbatch reads the script from standard input when no file is named
        if not data.strip():
            raise fail("give a script file, --wrap 'command', or the script on standard input (it was empty)")
        text = _text(data, "the script on standard input")
    elif script is not None:
        try:
            data = script.read_bytes()
        except OSError as exc:
            raise fail(f"cannot read {script}: {exc.strerror}") from None
        text = _text(data, str(script))
    if text.strip() and not text.startswith("#!"):  # an empty one: the server's "script is empty"
        from hal.controller.directives import NOT_A_SCRIPT  # only on this error: the client stays light

        raise fail(NOT_A_SCRIPT)
    if script_args and script is None:
        raise fail(f"arguments {' '.join(script_args)!r} without a script file (--wrap takes one command line)")
    values = {
        "job-name": job_name, "nodes": nodes, "ntasks": ntasks, "ntasks-per-node": ntasks_per_node,
        "cpus-per-task": cpus_per_task, "mem": mem, "mem-per-cpu": mem_per_cpu, "gres": gres, "gpus": gpus,
        "gpus-per-node": gpus_per_node, "gpus-per-task": gpus_per_task, "constraint": constraint,
        "cpus-per-gpu": cpus_per_gpu, "mem-per-gpu": mem_per_gpu, "ntasks-per-gpu": ntasks_per_gpu,
        "tres-per-task": tres_per_task, "nodelist": host_file(nodelist), "exclude": host_file(exclude),
        "chdir": str(Path(chdir).resolve()) if chdir else None,
        "time": time, "time-min": time_min, "partition": partition, "account": account, "qos": qos, "output": output,
        "error": error, "input": input_file,
        "dependency": dependency, "array": array, "begin": begin, "requeue": requeue or None,
        "exclusive": exclusive_mode if exclusive_mode is not None else exclusive or None, "hold": hold or None,
        "export": export,
        "no-requeue": no_requeue or None, "nice": nice, "comment": comment, "open-mode": open_mode,
        "mail-type": mail_type, "mail-user": mail_user, "signal": signal, "test-only": test_only or None,
        "kill-on-invalid-dep": kill_on_invalid_dep,
    }  # fmt: skip
    inputs, outputs = (",".join(v) if v else None for v in (input_data, output_data))  # repeated: all of them
    placement = {"input-data": inputs, "output-data": outputs, "switches": switches, "segment": segment}
    values.update({**placement, "topology": topology})
    options = {k: v for k, v in values.items() if v is not None}
    for item in ignored or []:  # the server names them in its note, as for #SBATCH lines
        name, eq, given = item.partition("=")
        options[name] = given if eq else True
    from_env = input_environment(os.environ)
    for group in EXCLUSIVE:  # sbatch: the environment's pair is refused unless the command line gives one
        if len(group & from_env.keys()) > 1 and not group & options.keys():
            names = sorted(f"SBATCH_{k}" for k, o in SBATCH_ENV.items() if o in group and o in from_env)
            raise fail(f"{' and '.join(names)} are mutually exclusive (sbatch refuses them together); unset one")
    for key, value in from_env.items():  # sbatch: command line > SBATCH_* > #SBATCH
        if not any(key in pair and pair & options.keys() for pair in EXCLUSIVE):  # one given: SBATCH_* adds none
            options.setdefault(key, value)
    switch_wait(options, os.environ, text)
    said = switches_from_env(options, os.environ, typed=switches is not None)
    if said is not None:
        raise fail(said)
    if wrap is None and "job-name" not in options and "job-name" not in _script_options(text):
        options["job-name"] = default_name(script)
    if not is_text(str(options.get("chdir", ""))):
        del options["chdir"]  # the working directory goes as its raw bytes (Client.submit)
    _check_text(wrap, options, script_args or [])
    with client() as c:
        done = c.submit(  # a refusal comes with the server's fix (too many GPUs for a node: the shapes that fit)
            text,
            wrap=wrap,
            options=options,
            env=job_environment(os.environ),  # Client.submit adds our umask (SLURM_UMASK)
            workdir=str(Path(chdir).resolve()) if chdir else os.getcwd(),
            idempotency_key=idempotency_key or str(uuid.uuid4()),
            args=list(script_args or []),
        )
        for note in done.get("notes") or []:
            err.print(f"hal submit: {note}", highlight=False)
        if done.get("test_only"):
            _tested(done, json_out)
            return
        wait = wait or os.environ.get("SBATCH_WAIT", "0") not in ("", "0")
        if wait:  # the id first (J=$(sbatch --parsable --wait ...) reads it), then the job's exit code
            _said(done, json_out, parsable)
            raise typer.Exit(_waited(c, done))
    _said(done, json_out, parsable)


def _tested(done: dict[str, Any], json_out: bool) -> None:
    """sbatch --test-only's line (on stderr, as sbatch writes it), with the p90; nothing was submitted."""
    if json_out:
        emit_json(done)
        return
    start = stamp(done["start"]) if done.get("start") else "an unknown time (no forecast starts it)"
    p90 = f" (90% by {stamp(done['start_p90'])})" if done.get("start_p90") else ""
    where = f" on nodes {done['nodes']}" if done.get("nodes") else ""  # sbatch's; none known for a held job
    err.print(
        f"hal submit: Job {done['job_id']} to start at {start}{p90} using {done['cpus']} processors{where} in "
        f"partition {done['partition']}; nothing was submitted",
        highlight=False,
    )


def _said(done: dict[str, Any], json_out: bool, parsable: bool) -> None:
    if json_out:
        emit_json(done)
    elif parsable:
        typer.echo(done["job_id"])
    else:
        out.print(f"Submitted batch job {done['job_id']}", highlight=False)


# sbatch's input environment variables: each sets an option the command line did not give
SBATCH_ENV = {
    "ACCOUNT": "account", "ARRAY_INX": "array", "CONSTRAINT": "constraint", "EXPORT": "export", "GPUS": "gpus",
    "GPUS_PER_NODE": "gpus-per-node", "GPUS_PER_TASK": "gpus-per-task", "GRES": "gres", "JOB_NAME": "job-name",
    "MEM_PER_CPU": "mem-per-cpu", "MEM_PER_NODE": "mem", "OPEN_MODE": "open-mode", "PARTITION": "partition",
    "QOS": "qos", "SIGNAL": "signal", "TIMELIMIT": "time", "OUTPUT": "output", "ERROR": "error",
    "INPUT": "input",
    "CPUS_PER_GPU": "cpus-per-gpu", "MEM_PER_GPU": "mem-per-gpu", "TRES_PER_TASK": "tres-per-task",
}  # fmt: skip
EXCLUSIVE = (  # one of each at most; the command line's replaces the environment's
    {"mem", "mem-per-cpu", "mem-per-gpu"}, {"cpus-per-task", "cpus-per-gpu"}, {"requeue", "no-requeue"},
)  # fmt: skip
SBATCH_FLAGS = {"EXCLUSIVE": "exclusive", "HOLD": "hold", "NO_REQUEUE": "no-requeue", "REQUEUE": "requeue"}


def input_environment(env: Mapping[str, str]) -> dict[str, str | bool]:
    """The options SBATCH_PARTITION, SBATCH_TIMELIMIT, ... set (flags when set to anything but 0)."""
    named = {**SBATCH_ENV, **IGNORED_ENV}  # the ignored ones reach the server's note, as their options do
    got: dict[str, str | bool] = {opt: env[f"SBATCH_{k}"] for k, opt in named.items() if env.get(f"SBATCH_{k}")}
    got |= {opt: True for k, opt in SBATCH_FLAGS.items() if env.get(f"SBATCH_{k}", "0") not in ("", "0")}
    if env.get("SBATCH_EXCLUSIVE", "").lower() in ("user", "mcs", "topo"):  # sbatch's values, as --exclusive=
        got["exclusive"] = env["SBATCH_EXCLUSIVE"].lower()
    if env.get("SBATCH_REQ_SWITCH"):  # --switches=N[@maxwait]; SBATCH_WAIT4SWITCH sets the wait (below)
        got["switches"] = env["SBATCH_REQ_SWITCH"]
    return got


def _script_options(script: str) -> dict[str, str]:
    """The script's own options; a script the server will refuse is left for it to name."""
    from hal.controller.script_options import DirectiveError, parse_script_options  # no engine: CLI start stays light

    try:
        return dict(parse_script_options(script))
    except DirectiveError:
        return {}


def job_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the job is sent, without HAL_TOKEN (the server keeps token digests only). A variable whose
    name or value is not UTF-8 (sbatch passes its bytes) is left out with a warning naming it: the API and the
    job's records are JSON text, and the job's own shell sets PWD (the working directory goes as raw bytes)."""
    env: dict[str, str] = {}
    for key, value in environ.items():
        if is_text(key) and is_text(value):
            env[key] = value
        elif key != "PWD":
            err.print(
                f"hal submit: warning: environment variable {_printable(key)} is not valid UTF-8; it is not passed "
                "to the job",
                markup=False,
                highlight=False,
            )
    env.pop("HAL_TOKEN", None)
    return env


def _printable(text: str) -> str:
    """``text`` with its undecodable bytes as \\xNN, for messages and a default job name."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _check_text(wrap: str | None, options: Mapping[str, object], args: list[str]) -> None:
    """One line, not a traceback, for a non-UTF-8 option value, --wrap command or script argument."""
    for key, value in options.items():
        if isinstance(value, str) and not is_text(value):
            raise fail(f"--{key}={_printable(value)}: not valid UTF-8 text; HAL keeps it as text (use UTF-8)")
    if wrap is not None and not is_text(wrap):
        raise fail(f"--wrap {_printable(wrap)!r}: not valid UTF-8 text")
    for i, arg in enumerate(args, start=1):
        if not is_text(arg):
            raise fail(f"script argument {i} ({_printable(arg)}) is not valid UTF-8 text")


def _text(data: bytes, where: str) -> str:
    if len(data) > MAX_SCRIPT:  # refused here, not after uploading it all (QA: 70 MB sent for a 413)
        raise fail(
            f"{where} is larger than the {MAX_SCRIPT // (1024 * 1024)} MiB limit for scripts ({len(data):,} bytes)"
        )
    if b"\x00" in data:
        raise fail(f"{where} looks binary (it contains NUL bytes); submit a text script")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise fail(f"{where} is not UTF-8 text") from None


def _waited(c: Any, done: dict[str, Any]) -> int:
    """sbatch --wait's exit code: the job's (an array's highest), 1 when it ended without one (cancelled)."""
    rec = c.wait(done["job_id"], detail=False)  # states, exit codes and signals are in the light record
    bad = [t for t in rec.get("tasks") or [rec] if t["state"] != "COMPLETED"]
    if not bad:
        return 0
    codes = [128 + int(t["signal"]) if t.get("signal") else int(t.get("exit_code") or 0) for t in bad]
    return max([c for c in codes if c] or [1])  # a signal N as 128+N, like a shell's


def default_name(script: Path | None) -> str:
    """sbatch's job name when neither the command line, SBATCH_JOB_NAME nor an #SBATCH line (one before the
    first command, as the server reads them) gives one: the script's file name, "sbatch" for standard input."""
    return _printable(script.name) if script is not None else "sbatch"
