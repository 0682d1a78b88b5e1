"""Reads #SBATCH/#HAL directives and command-line options into one normalized job request."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hal.controller.gpu_options import (
    gpu_parts,
    gpu_type,
    gpus_asked,
    gpus_per_task,
    node_gpus,
    ntasks_per_gpu,
    per_gpu,
    tres_per_task,
)
from hal.controller.option_pairs import settle
from hal.controller.option_values import (
    WHOLE_MEMORY,
    DirectiveError,
    check_paths,
    comment_option,
    early_signal,
    exclusive_option,
    int_option,
    mem_option,
    node_count,
    open_mode_option,
    parse_array,
    parse_begin,
    parse_dependency,
    parse_time,
    parse_time_min,
    unacted_notes,
    yes_no,
)
from hal.controller.placement_options import placement_options
from hal.controller.request_env import export_env, gpu_env, request_env
from hal.controller.script_options import FLAGS, IGNORED_FLAGS, IGNORED_VALUED, VALUED, parse_script_options
from hal.executors.api import args_problem, env_problem, script_problem
from hal.model.job import Sharing

MAX_SCRIPT_BYTES = 4 * 1024 * 1024  # Slurm's default max_script_size
MAX_NAME = 256


# a dependency as stored with its job (``_deps``): kind, job id, the array it was named by, after's delay (s),
# whether it is one of a '?' list (any one met is enough), and for aftercorr:ARRAY the task index it stands for
StoredDep = tuple[str, int, int | None, float, bool, int | None]


@dataclass(slots=True)
class JobRequest:
    """A submission after parsing: what the engine needs plus what the executor needs to run it."""

    script: str
    name: str = ""
    account: str = ""
    partition: str = ""
    partition_asked: str = ""  # -p as given (a,b): ``partition`` keeps those whose limits admit the job
    qos: str = "normal"
    nodes: int | None = None
    tasks: int = 1
    cpus_per_task: int = 1
    mem_per_task_mb: int = 0
    gpus_per_task: int = 0
    mem_per_node_mb: int = 0  # --mem: held whole on every node of a -N job (0: memory per task)
    gpus_per_node: int = 0  # a -N job's --gpus-per-node / --gres=gpu:N: held whole on every node
    gpus_per_job: int = 0  # --gpus/-G=N as given (Slurm's TresPerJob): 0 when GPUs were asked per node or task
    gpus_asked: str = ""  # "job", "node" or "task" (gpu_options.gpus_asked); "": none, or stored before it was kept
    cpus_per_gpu: int = 0  # --cpus-per-gpu (Slurm's CpusPerTres, not TresPerTask): cpus_per_task is it x task's GPUs
    gpu_kind: str = ""  # the GPU type asked for (gpu:h100:2): the GPU request's, not a -C feature (node_features)
    time_limit: float | None = None
    time_unlimited: bool = False  # --time=0/UNLIMITED given: no partition's limit becomes its default
    time_min: float | None = None  # --time-min: backfill may lower time_limit to no less than this (engine/time_min.py)
    time_lowered: bool = False  # time_limit is the one backfill lowered it to at its start; time_asked the --time
    time_asked: float | None = None  # (a requeue restores it: controller/lowered_limit.py)
    time_cut: float | None = None  # this attempt's first lowered limit: a moved cut never comes back below it
    dependencies: list[tuple[str, str]] = field(default_factory=list)  # as typed: (kind, ref[+MINUTES])
    # writer job id -> the inputs it writes: the afterok admit_data added (not typed), met once the catalog holds
    # them (controller/data_waits.py)
    data_waits: dict[str, list[str]] = field(default_factory=dict)
    array: list[int] | None = None
    array_limit: int | None = None
    begin: float | None = None
    requeue: bool = False
    exclusive: bool | Sharing = False  # True: whole nodes; "user", "mcs" or "topo": Slurm's --exclusive=VALUE
    nice: int = 0
    workdir: str = ""
    output: str = ""
    error: str = ""
    input: str = ""  # -i/--input: the batch script's stdin, a pattern as --output ("": /dev/null)
    env: dict[str, str] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # --input-data=NAME[,NAME]: datasets staged to $HAL_DATA
    outputs: list[str] = field(default_factory=list)  # --output-data=NAME[,NAME]
    switches: int | None = None  # --switches=N[@maxwait]
    switches_wait: float | None = None
    segment: int | None = None  # --segment=N
    topology_required: str = ""  # --topology=required=LEVEL
    topology_preferred: str = ""  # --topology=preferred=LEVEL
    hold: bool = False  # -H/--hold: submitted held (JobHeldUser) until `hal release`
    hold_admin: bool = False  # held by an administrator (JobHeldAdmin): only an administrator releases it
    features: list[str] = field(default_factory=list)  # -C/--constraint=a&b: every one of the nodes' features
    node_names: list[str] = field(default_factory=list)  # -w/--nodelist=n[01-02]: on these nodes only
    exclude_nodes: list[str] = field(default_factory=list)  # -x/--exclude=n[03-04]: never on these nodes
    args: list[str] = field(default_factory=list)  # what follows the script, as in `sbatch job.sh a b`
    comment: str = ""  # --comment: shown by hal show and history, as Slurm's Comment
    open_mode: str = "truncate"  # --open-mode=append keeps an earlier run's output (a requeue, a restart)
    test_only: bool = False  # --test-only: check it and forecast its start; submit nothing (controller/testonly.py)
    kill_invalid_dep: bool = False  # --kill-on-invalid-dep=yes: cancelled once a dependency can never be met
    signal: str = ""  # --signal=[B:]SIG[@SECONDS]: a warning before the time limit (option_values.early_signal)
    notes: list[str] = field(default_factory=list)  # what the submitter is told: options accepted but not acted on

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def node_features(self) -> tuple[str, ...]:
        """The features every node of the job has: -C's, and gpu:TYPE for a typed GPU request."""
        return (*self.features, *([f"gpu:{self.gpu_kind}"] if self.gpu_kind else []))

    def requested(self) -> tuple[int, int]:
        """Memory and GPUs asked for in all (ReqTRES): per-node asks once a node, the rest per task."""
        nodes = self.nodes or 0  # without -N, per-task amounts (the node count is not known)
        mem = nodes * self.mem_per_node_mb if nodes and self.mem_per_node_mb else self.tasks * self.mem_per_task_mb
        return mem, nodes * self.gpus_per_node if nodes and self.gpus_per_node else self.tasks * self.gpus_per_task

    @staticmethod
    def from_dict(data: dict[str, Any]) -> JobRequest:
        data = dict(data)
        data["dependencies"] = [tuple(d) for d in data.get("dependencies", [])]
        feats = data.get("features") or []
        gpus = data.get("gpus_per_task") or data.get("gpus_per_node") or data.get("gpus_per_job")
        if "gpu_kind" not in data and gpus and feats and str(feats[-1]).startswith("gpu:"):  # stored before
            data["features"], data["gpu_kind"] = feats[:-1], feats[-1][4:]  # gpu_kind: its type was the last feature
        return JobRequest(**data)


class ScriptTooLarge(DirectiveError):
    """Over Slurm's max_script_size (HTTP 413)."""


NOT_A_SCRIPT = (
    "This does not look like a batch script.  The first line must start with #! followed by the path to an "
    "interpreter. For instance: #!/bin/sh"
)  # sbatch's words; hal submit says the same before sending the script


def check_script(script: str) -> None:
    """The executor's own test (empty, huge, binary, DOS line ends), so the user hears it at submission, and
    sbatch's "#!" rule: a script without one ran under sh whatever the user meant (a Python file, a typo'd
    path). Checked here, where new submissions are built (--wrap's script has one), not in ``admit``, which
    `hal update` re-runs on jobs queued before this rule."""
    if len(script.encode("utf-8", "surrogatepass")) > MAX_SCRIPT_BYTES:
        raise ScriptTooLarge(f"the script is larger than the {MAX_SCRIPT_BYTES // (1024 * 1024)} MiB limit")
    problem = script_problem(script)
    if problem is not None:
        raise DirectiveError(problem)
    if not script.startswith("#!"):
        raise DirectiveError(NOT_A_SCRIPT)


def _hosts(options: dict[str, str], key: str) -> list[str]:
    """A Slurm host list option (--nodelist, --exclude) as node names."""
    if not options.get(key):
        return []
    from hal.executors.hostlist import expand

    try:
        return list(dict.fromkeys(expand(options[key])))
    except ValueError as exc:
        raise DirectiveError(f"--{key}={options[key]!r}: {exc}") from None


def _nodelist(options: dict[str, str]) -> list[str]:
    """-w/--nodelist: nodes a job runs on (all of them, and others when -N asks for more: option_values.node_count)."""
    names = _hosts(options, "nodelist")
    if names and set(names) & set(_hosts(options, "exclude")):
        raise DirectiveError("--nodelist and --exclude name the same node")
    return names


def parse_constraint(text: str) -> list[str]:
    """-C/--constraint: node features that must all be present (``a&b``, or ``a,b`` as older Slurm wrote it),
    or any one of them (``a|b``: one entry "a|b", each node having one of them); mixing both and Slurm's other
    operators are refused rather than read as a feature name."""
    if any(ch in text for ch in "[]*()!") or ("|" in text and ("&" in text or "," in text)):
        raise DirectiveError(f"--constraint={text!r}: use features joined by '&' (all of them) or by '|' (any one)")
    if "|" in text:
        anyof = [f.strip() for f in text.split("|")]
        if not all(anyof):
            raise DirectiveError(f"--constraint={text!r}: an empty feature name")
        return ["|".join(anyof)]
    names = [f.strip() for f in text.replace(",", "&").split("&")]
    if not all(names):
        raise DirectiveError(f"--constraint={text!r}: an empty feature name")
    return names


def build_request(
    script: str,
    overrides: dict[str, str],
    env: dict[str, str],
    workdir: str,
    now: float,
    args: Sequence[str] = (),
    off: Collection[str] = (),
) -> JobRequest:
    """Script directives first, then the command line's options on top, as sbatch does; ``off``: flags the API
    turned off (``"exclusive": false``), which a script's directive does not turn back on."""
    check_script(script)
    unknown = sorted((set(overrides) | set(off)) - VALUED - FLAGS)
    if unknown:  # the API's options: a misspelt one ("tim") was ignored, as the CLI never would
        raise DirectiveError(f"unknown option --{unknown[0]}")
    options = parse_script_options(script)
    settle(options, overrides)  # the command line's choices replace the script's
    options.update(overrides)
    for flag in off:
        options.pop(flag, None)
    listed = _nodelist(options)
    nodes = node_count(options, len(listed))
    per_node = int_option(options, "ntasks-per-node", None)
    tres_per_task(options)
    tasks = ntasks_per_gpu(options, int_option(options, "ntasks", None), nodes)
    if tasks is None:
        tasks = (nodes or 1) * (per_node or 1)
    if nodes is None and per_node:  # sbatch: at most that many tasks on a node, so -n N takes ceil(N / it) nodes
        nodes = -(-tasks // per_node)  # (else the tasks spread anywhere, and one node could take more of them)
    fewer = nodes is not None and len(listed) <= tasks < nodes  # sbatch: "can't run 2 processes on 3 nodes,
    nodes = tasks if fewer else nodes  # setting nnodes to 2" (a node with no task held a share; -w's all stay)
    gpus_task = gpus_per_task(options, tasks, nodes, per_node)
    cpus_gpu, mem_gpu = per_gpu(options, gpus_task, int_option(options, "cpus-per-task", None))
    cpus = cpus_gpu or int_option(options, "cpus-per-task", 1) or 1
    mem_node, mem_cpu = mem_option(options, "mem"), mem_option(options, "mem-per-cpu")
    if mem_cpu is not None:
        mem_task = mem_cpu * cpus
    elif mem_node is not None:
        mem_task = -(-mem_node * (nodes or 1) // tasks)
    else:
        mem_task = mem_gpu or 0
    node_mem = mem_node if mem_cpu is None and mem_node else 0  # --mem is per node (a -N job's, once one is set)
    name = options.get("job-name", "")
    if len(name) > MAX_NAME or any(ord(ch) < 32 for ch in name):
        raise DirectiveError(f"--job-name: at most {MAX_NAME} characters, no control characters")
    check_paths(options, workdir)
    array, limit = parse_array(options["array"]) if "array" in options else (None, None)
    exclusive, exclusive_notes = exclusive_option(options)
    req = JobRequest(
        script=script,
        name=name,
        account=options.get("account", ""),
        partition=options.get("partition", ""),
        qos=options.get("qos", "normal"),
        nodes=nodes,
        tasks=tasks,
        cpus_per_task=cpus,
        mem_per_task_mb=mem_task,
        gpus_per_task=gpus_task,
        mem_per_node_mb=node_mem or 0,
        gpus_per_node=node_gpus(options) if nodes is not None else 0,
        gpus_per_job=int(gpu_parts("gpus", options["gpus"])[1]) if "gpus" in options else 0,
        gpus_asked=gpus_asked(options),
        cpus_per_gpu=int_option(options, "cpus-per-gpu", 0) or 0,
        time_limit=parse_time(options["time"]) if "time" in options else None,
        time_unlimited="time" in options and parse_time(options["time"]) is None,
        time_min=parse_time_min(options["time-min"]) if "time-min" in options else None,
        dependencies=parse_dependency(options["dependency"]) if options.get("dependency") else [],
        array=array,
        array_limit=limit,
        begin=parse_begin(options["begin"], now) if "begin" in options else None,
        requeue="requeue" in options and "no-requeue" not in options,
        exclusive=True if mem_node == 0 else exclusive,  # --mem=0: all of each node's memory
        hold="hold" in options,
        nice=int_option(options, "nice", 0, -10000) or 0,
        workdir=options.get("chdir", workdir),
        output=options.get("output", ""),
        error=options.get("error", ""),
        input=options.get("input", ""),
        env={**export_env(options.get("export", "ALL"), env), **gpu_env(options), **request_env(options, array)},
        gpu_kind=gpu_type(options),
        features=parse_constraint(options["constraint"]) if options.get("constraint") else [],
        node_names=listed,
        exclude_nodes=_hosts(options, "exclude"),
        args=list(args),
        comment=comment_option(options),
        open_mode=open_mode_option(options),
        test_only="test-only" in options,
        kill_invalid_dep=yes_no(options, "kill-on-invalid-dep"),
        signal=options.get("signal", "") if early_signal(options.get("signal", "")) else "",
        notes=unacted_notes(options, IGNORED_VALUED | IGNORED_FLAGS)
        + exclusive_notes
        + ([f"can't run {tasks} processes on more nodes: -N set to {tasks}, as sbatch does"] if fewer else [])
        + (WHOLE_MEMORY if mem_node == 0 and exclusive is not True else []),
        **placement_options(options),
    )
    problem = env_problem(req.env) or args_problem(req.args, req.env)  # accepted, then failed at launch (E2BIG)
    paths = {"working directory": req.workdir, "--output": req.output, "--error": req.error, "--input": req.input}
    problem = problem or next((f"{what} contains a NUL byte" for what, p in paths.items() if "\x00" in p), None)
    if problem is not None:
        raise DirectiveError(problem)
    return req


def wrap_script(command: str) -> str:
    """``--wrap "cmd"``: a one-line /bin/sh script, as sbatch builds it."""
    return f"#!/bin/sh\n# This script was created by hal submit --wrap\n\n{command}\n"
