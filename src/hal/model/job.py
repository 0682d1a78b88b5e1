"""What a user asked for (JobSpec), what happened to it (Job), and the allowed state transitions."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Literal

from hal.model.resources import Resources


class JobState(enum.Enum):
    """Slurm's job states and short codes."""

    PENDING = "PD"
    RUNNING = "R"
    COMPLETED = "CD"
    FAILED = "F"
    CANCELLED = "CA"
    TIMEOUT = "TO"
    NODE_FAIL = "NF"
    PREEMPTED = "PR"
    OUT_OF_MEMORY = "OOM"
    STAGE_OUT = "SO"  # its processes ended; its declared outputs are being copied out, then COMPLETED or FAILED

    @property
    def terminal(self) -> bool:
        return self not in (JobState.PENDING, JobState.RUNNING, JobState.STAGE_OUT)


_ENDINGS = frozenset(
    {
        JobState.COMPLETED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.TIMEOUT,
        JobState.NODE_FAIL,
        JobState.PREEMPTED,
        JobState.OUT_OF_MEMORY,
    }
)

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.RUNNING, JobState.CANCELLED}),
    JobState.RUNNING: _ENDINGS | {JobState.STAGE_OUT},
    JobState.STAGE_OUT: frozenset({JobState.COMPLETED, JobState.FAILED}),
    # A requeued job (NODE_FAIL or PREEMPTED with --requeue) goes back to PENDING as a new attempt.
    JobState.NODE_FAIL: frozenset({JobState.PENDING}),
    JobState.PREEMPTED: frozenset({JobState.PENDING}),
    JobState.COMPLETED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.TIMEOUT: frozenset(),
    JobState.OUT_OF_MEMORY: frozenset(),
}


class InvalidTransition(ValueError):
    """A state change the table does not allow."""


def check_transition(old: JobState, new: JobState) -> None:
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(f"job cannot go from {old.name} to {new.name}")


class PendingReason(enum.Enum):
    """Why a job waits, with Slurm's reason codes."""

    NONE = "None"
    PRIORITY = "Priority"
    RESOURCES = "Resources"
    DEPENDENCY = "Dependency"
    DEPENDENCY_NEVER_SATISFIED = "DependencyNeverSatisfied"
    BEGIN_TIME = "BeginTime"
    PARTITION_NODE_LIMIT = "PartitionNodeLimit"
    PARTITION_TIME_LIMIT = "PartitionTimeLimit"
    BAD_CONSTRAINTS = "BadConstraints"
    TOPOLOGY = "Topology"  # free nodes exist, but not within the requested switches, level or segments
    DATA_LOCALITY = "DataLocality"  # not Slurm's: free nodes exist, but delay scheduling waits for its data's nodes
    JOB_HELD_USER = "JobHeldUser"  # sbatch -H / scontrol hold: waits for a release


class DependencyKind(enum.Enum):
    AFTER = "after"  # the other job has started
    AFTERANY = "afterany"  # the other job has ended, in any state
    AFTEROK = "afterok"  # the other job completed with exit 0
    AFTERNOTOK = "afternotok"  # the other job ended in failure
    AFTERCORR = "aftercorr"  # task N of an array after task N of the other completed with exit 0 (as afterok)


@dataclass(frozen=True, slots=True)
class Dependency:
    kind: DependencyKind
    job_id: int
    array: int | None = None  # the array it was named by (``afternotok:ARRAY``): its tasks are judged together
    delay: float = 0.0  # after:JOB+MIN: seconds after JOB started (or was cancelled) before this one may start
    any_of: bool = False  # one of a '?' list: any one of them met is enough (the others are all required)


Sharing = Literal["user", "mcs", "topo"]  # Slurm's --exclusive=VALUE (engine/sharing.py says what each does)
SHARING: tuple[Sharing, ...] = ("user", "mcs", "topo")


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A submission. ``tasks`` x ``per_task`` is the request; ``nodes`` pins the node count when set.

    ``runtime`` is the job's real duration, known only to the simulator (a trace's run time).
    """

    job_id: int
    submit_time: float
    tasks: int = 1
    per_task: Resources = field(default_factory=lambda: Resources(cpus=1))
    nodes: int | None = None
    exclusive: bool | Sharing = False  # True: whole nodes (--exclusive); a Sharing value: Slurm's --exclusive=VALUE
    time_limit: float | None = None
    name: str = ""
    user: str = "nobody"
    group: str = ""
    account: str = ""
    partition: str = ""
    qos: str = "normal"
    nice: int = 0
    dependencies: tuple[Dependency, ...] = ()
    begin_time: float | None = None
    inputs: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    node_names: tuple[str, ...] = ()  # -w/--nodelist: the job runs on these nodes only
    exclude_nodes: tuple[str, ...] = ()  # -x/--exclude: never on these nodes
    executable: int = -1
    queue: int = -1
    runtime: float | None = None
    # Topology requests: Slurm's --switches=N[@maxwait] and --segment=N, Kueue's required/preferred level.
    switches: int | None = None
    switches_wait: float | None = None
    topology_required: str = ""
    topology_preferred: str = ""
    segment: int | None = None
    outputs: tuple[str, ...] = ()
    held: bool = False  # sbatch -H / `hal hold`: never started until released
    # False: the trace gave no requested time and ``time_limit`` is the replay's stand-in (the job's own run
    # time, as the reference simulators use it for user estimates); learned predictions must not see it.
    request_known: bool = True
    # A -N job's per-node asks (sbatch --mem, --gpus-per-node, --gres=gpu:N): every node holds them, whatever its
    # share of the tasks (0: none; ``per_task`` then scales with each node's tasks).
    node_mem_mb: int = 0
    node_gpus: int = 0
    # sbatch --time-min: backfill may start the job with its limit lowered to no less than this, when that lets it
    # start before a reserved job's start (engine/time_min.py); the lowered limit is then its kill limit.
    time_min: float | None = None
    # The array a live job is a task of: its tasks run the same script, so their runtimes err together (a start
    # forecast draws one error for all of them, engine/forecast.py). None for traces and single jobs.
    batch: int | None = None
    # A trace's run that someone ended (SWF status 5, cancelled): replayed and charged as recorded, but its run time is
    # only a lower bound of the job's, so a replay's predictor does not learn it, as the live server does not.
    cut_short: bool = False
    # The limit the user asked for before an administrator raised it (hal update; None: not raised): a start forecast
    # learns the user's runtime errors against it, not against a raise the user never asked for (QA: four jobs
    # raised from 1 to 10 minutes taught ratios of 0.03, and the user's next jobs were forecast 10x too short).
    asked_limit: float | None = None

    def __post_init__(self) -> None:
        if self.tasks < 1:
            raise ValueError(f"job {self.job_id}: tasks must be >= 1, got {self.tasks}")
        if self.nodes is not None and self.nodes < 1:
            raise ValueError(f"job {self.job_id}: nodes must be >= 1, got {self.nodes}")
        if self.time_limit is not None and self.time_limit < 0:
            raise ValueError(f"job {self.job_id}: time limit must be >= 0, got {self.time_limit}")
        if self.submit_time < 0:
            raise ValueError(f"job {self.job_id}: submit time must be >= 0, got {self.submit_time}")
        if self.time_min is not None and not 0 < self.time_min <= (self.time_limit or math.inf):
            raise ValueError(
                f"job {self.job_id}: --time-min must be > 0 and at most the time limit ({self.time_limit}), "
                f"got {self.time_min}"
            )
        if self.switches is not None and self.switches < 1:
            raise ValueError(f"job {self.job_id}: --switches must be >= 1, got {self.switches}")
        if isinstance(self.exclusive, str) and self.exclusive not in SHARING:
            raise ValueError(f"job {self.job_id}: --exclusive={self.exclusive}: use user, mcs or topo")
        if self.segment is not None and (self.segment < 1 or (self.nodes or 1) % self.segment):
            raise ValueError(f"job {self.job_id}: --segment={self.segment} must divide the node count {self.nodes}")

    @property
    def requested(self) -> float | None:
        """The limit the user asked for: what a learned predictor may learn from and cap at."""
        limit = self.time_limit
        return limit if limit is not None and limit > 0 and self.request_known else None

    @property
    def total(self) -> Resources:
        return self.per_task.scaled(self.tasks)

    @property
    def procs(self) -> int:
        return self.tasks * self.per_task.cpus


@dataclass(slots=True)
class Job:
    """One job's life: the spec plus what the scheduler and the executor did with it."""

    spec: JobSpec
    state: JobState = JobState.PENDING
    start_time: float | None = None
    end_time: float | None = None
    nodes: tuple[int, ...] = ()
    exit_code: int | None = None
    reason: PendingReason = PendingReason.NONE
    estimate: float = 0.0
    backfilled: bool = False
    history: list[tuple[float, JobState, str]] = field(default_factory=list)

    @property
    def job_id(self) -> int:
        return self.spec.job_id

    def transition(self, new: JobState, at: float, cause: str = "") -> None:
        check_transition(self.state, new)
        ran_until = self.state is JobState.STAGE_OUT  # the end is when its processes ended, not its stage-out
        self.state = new
        self.history.append((at, new, cause))
        if new is JobState.RUNNING:
            self.start_time = at
            self.reason = PendingReason.NONE
        elif (new.terminal and not ran_until) or new is JobState.STAGE_OUT:
            self.end_time = at
