"""What the controller asks of an executor: launch, cancel, report exits, and reattach after a restart."""

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


class Executor(Protocol):
    name: str

    def launch(self, spec: LaunchSpec) -> None: ...

    def cancel(self, job_id: int, grace: float = 10.0) -> None: ...

    def events(self) -> list[ExecEvent]:
        """Drains what happened since the last call; never blocks."""
        ...

    def reattach(self, job_ids: list[int]) -> dict[int, ExecEvent | None]:
        """After a controller restart: None for a job still running, its ENDED event if it ended meanwhile,
        or an ENDED event with state NODE_FAIL if its processes are gone without a record."""
        ...

    def shutdown(self) -> None: ...
