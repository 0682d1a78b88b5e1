"""What the controller asks of an executor: launch, cancel, report exits, and reattach after a restart.

Additions since the first version (all optional, existing callers unchanged): LaunchSpec.args (script arguments,
as in `sbatch job.sh a b`) and LaunchSpec.submit_dir (SLURM_SUBMIT_DIR; defaults to workdir); ExecEvent.start_time
on ENDED events; LaunchSpec.warn_signal (sbatch --signal), LaunchSpec.stdin (sbatch --input) and
Executor.signal (scancel -s); script_problem() and MAX_SCRIPT_BYTES, so the
controller can refuse an empty, huge or binary script at submission with a 4xx instead of learning it at launch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hal.model.job import JobState


@dataclass(frozen=True, slots=True)
class NodeShare:
    """What one job gets on one (virtual) node: its name, CPU ids for affinity, memory and GPUs."""

    node: str
    cpus: tuple[int, ...]
    mem_mb: int = 0
    gpus: tuple[int, ...] = ()
    ncpus: int = 0  # CPUs allocated on the node (virtual nodes may pin several to one host CPU); 0: len(cpus)
    gpu_type: str | None = None  # its GPUs' gpu_type ("a100"; "": untyped); None: not known (an older launch)
    node_gpus: int | None = None  # the GPUs its node has configured (jobenv.drop_gpu_variables); None: not known

    @property
    def allocated(self) -> int:
        """The CPUs the job holds on this node, as Slurm reports them (SLURM_CPUS_ON_NODE)."""
        return self.ncpus or len(self.cpus)


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    """Everything needed to run one job (or one array task) on its allocation."""

    job_id: int
    name: str
    user: str
    script: str  # the batch script's text; run with its shebang, else /bin/sh
    workdir: Path
    stdout: str  # a path pattern with Slurm's %j %x %A %a %u %N, relative to workdir
    stderr: str
    shares: tuple[NodeShare, ...]
    ntasks: int = 1
    cpus_per_task: int = 1
    time_limit: float | None = None  # seconds; TIMEOUT when exceeded
    env: dict[str, str] = field(default_factory=dict)
    array_job_id: int | None = None
    array_task_id: int | None = None
    partition: str = ""
    account: str = ""
    args: tuple[str, ...] = ()  # arguments after the script, as in `sbatch job.sh a b`
    open_mode: str = "truncate"  # or "append" (--open-mode): an earlier run's output stays
    restarts: int = 0  # SLURM_RESTART_COUNT: how often it was requeued
    submit_dir: Path | None = None  # SLURM_SUBMIT_DIR; None means workdir
    warn_signal: tuple[int, int, bool] | None = None  # --signal: (signal, seconds before the limit, batch only)
    stdin: str = ""  # --input: a path pattern as stdout's, relative to workdir; "": /dev/null


class ExecEventKind(enum.Enum):
    STARTED = "started"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class ExecEvent:
    """An executor's report; ENDED carries the terminal state and accounting."""

    job_id: int
    kind: ExecEventKind
    time: float
    state: JobState | None = None
    exit_code: int | None = None
    signal: int | None = None
    cpu_seconds: float = 0.0
    max_rss_mb: float = 0.0
    reason: str = ""
    start_time: float | None = None  # on ENDED: when the job's processes started (None if they never did)
    drain_node: str = ""  # on ENDED: a node at fault for the failed launch (its CPUs cannot be pinned): drain it
    unknown: bool = False  # on ENDED at a reattach: no trace of the job here, so whether it ran (elsewhere) is unknown


MAX_SCRIPT_BYTES = 4 * 1024 * 1024  # Slurm's default max_script_size


def script_problem(script: str) -> str | None:
    """Why a batch script cannot run (empty, too big, binary, DOS line ends), or None when it looks runnable.

    Executors refuse such scripts at launch with this message; calling it at submission gives the user a 4xx.
    """
    size = len(script.encode("utf-8", "surrogatepass"))
    if size > MAX_SCRIPT_BYTES:
        return f"script is {size:,} bytes; the limit is {MAX_SCRIPT_BYTES:,} bytes (4 MiB)"
    if not script.strip():
        return "script is empty"
    if "\x00" in script:
        return f"script looks binary (NUL byte at offset {script.index(chr(0))}); submit a text script"
    head = script[:8192]
    odd = sum(1 for ch in head if (ord(ch) < 32 and ch not in "\t\n\r\f\v\x1b") or ch == "\ufffd")
    if odd > max(8, len(head) // 100):
        return f"script looks binary ({odd} control or undecodable characters in its first {len(head)}); submit text"
    first = script.split("\n", 1)[0]
    if first.endswith("\r"):
        return "script has DOS line breaks (\\r\\n); convert it with dos2unix"
    if first.startswith("#!") and not first[2:].strip():
        return "script's first line is '#!' without an interpreter"
    return None


MAX_ENV_VALUE = 128 * 1024 - 1  # Linux's MAX_ARG_STRLEN: one "NAME=value" longer than this cannot be exec'd
MAX_ENV_BYTES = 1024 * 1024  # half of the usual ARG_MAX, the rest for the script's arguments and HAL's own


def env_problem(env: dict[str, str]) -> str | None:
    """Why a job's environment could never start a process (execve's E2BIG, a name with '=' or a NUL byte, a
    value with a NUL byte), or None."""
    for name, value in env.items():
        if not name or "=" in name or "\x00" in name:
            return f"environment variable name {name[:40]!r} is invalid (empty, or with '=' or a NUL byte)"
        if "\x00" in value:
            return f"environment variable {name[:40]} contains a NUL byte"
        if len(name.encode()) + len(value.encode()) + 1 > MAX_ENV_VALUE:
            return f"environment variable {name[:40]} is {len(value.encode()):,} bytes; a process takes at most 128 KiB"
    total = sum(len(k.encode()) + len(v.encode()) + 2 for k, v in env.items())
    if total > MAX_ENV_BYTES:
        return f"the environment is {total:,} bytes; a job's is limited to {MAX_ENV_BYTES:,} (--export fewer)"
    return None


MAX_ARG_BYTES = 2 * 1024 * 1024 - 64 * 1024  # ARG_MAX (2 MiB, an 8 MiB stack's quarter) less room for HAL's own


def args_problem(args: list[str], env: dict[str, str]) -> str | None:
    """Why a job's script arguments could never be exec'd (a NUL byte, one over 128 KiB, arguments and
    environment together over ARG_MAX), or None. Each string costs its bytes, its NUL and its pointer."""
    for i, arg in enumerate(args, start=1):
        if "\x00" in arg:
            return f"script argument {i} contains a NUL byte"
        if len(arg.encode()) + 1 > MAX_ENV_VALUE:
            return f"script argument {i} is {len(arg.encode()):,} bytes; a process takes at most 128 KiB"
    total = sum(len(a.encode()) + 9 for a in args) + sum(len(k.encode()) + len(v.encode()) + 10 for k, v in env.items())
    if total > MAX_ARG_BYTES:
        return (
            f"the script's arguments and environment are {total:,} bytes; a process takes at most {MAX_ARG_BYTES:,} "
            "(fewer or shorter arguments, or --export fewer variables)"
        )
    return None


class Executor(Protocol):
    name: str

    def launch(self, spec: LaunchSpec) -> None: ...

    def cancel(self, job_id: int, grace: float = 10.0) -> None: ...

    def signal(self, job_id: int, sig: int, whom: str) -> bool:
        """scancel -s: sig to a running job's batch shell, its steps or all its processes (proctree.BATCH, STEPS,
        ALL); False when none of its processes runs here."""
        ...

    def retime(self, job_id: int, limit: float | None) -> bool:
        """A running job's new time limit in seconds from its start (None: unlimited); False when it has ended."""
        ...

    def events(self) -> list[ExecEvent]:
        """Drains what happened since the last call; never blocks."""
        ...

    def reattach(self, job_ids: list[int]) -> dict[int, ExecEvent | None]:
        """After a controller restart: None for a job still running, its ENDED event if it ended meanwhile,
        or an ENDED event with state NODE_FAIL if its processes are gone without a record."""
        ...

    def shutdown(self) -> None: ...
