"""Admission checks: QOS names, partition defaults and limits, paths and job references (the request and the
cluster file only, run before the controller's lock is taken), and data requests (against the data plane, under
it)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hal.controller.contracts import NotFound, SubmitError
from hal.controller.directives import JobRequest, StoredDep
from hal.controller.job_ids import MAX_JOB_ID
from hal.controller.option_values import ANY_OF, hms
from hal.controller.store import Store
from hal.controller.task_lists import NotATaskList, task_list
from hal.model.cluster import Cluster


def admit_live(req: JobRequest, staging: Any, live: dict[int, Any], user: str) -> None:
    """Checks against the jobs not yet ended (under the controller's lock): --dependency=singleton waits for
    the user's unfinished jobs of the same name (Slurm's rule), and data requests (``admit_data``)."""
    if ("singleton", "") in req.dependencies:
        same = [j for j, lv in live.items() if lv.user == user and lv.request.name == req.name]
        req.dependencies = singleton_pairs(req.dependencies, same)
    if req.inputs or req.outputs:
        admit_data(req, staging, live, user)


def singleton_pairs(pairs: list[tuple[str, str]], same: list[int]) -> list[tuple[str, str]]:
    """--dependency=singleton resolved to the jobs it waits for, kept under its own kind where it was typed
    (("singleton", "") when there are none): hal show and squeue %E print "singleton" as Slurm does (they
    printed afterany:ID), and resolve_deps hands the engine an afterany on each."""
    at = pairs.index(("singleton", ""))
    rest = [d for d in pairs if d[0] != "singleton"]
    return [*rest[:at], *([("singleton", str(j)) for j in same] or [("singleton", "")]), *rest[at:]]


def admit_data(req: JobRequest, staging: Any, live: dict[int, Any], user: str) -> None:
    """Refuse --input-data/--output-data without a data plane, and inputs that can never be staged (the data
    plane says why). An input that one of the user's unfinished jobs (in ``live``, or ended and staging it out
    now) declares as its output and the catalog does not hold yet makes that job an implicit ``afterok``
    dependency: the reader waits for the writer (QA: one submitted during the writer's stage-out held a node
    in CF all through it, and failed with it). Another user's writer is not waited on: the reader could
    neither see nor cancel what held it."""
    if staging is None:
        raise SubmitError("--input-data/--output-data need a data plane: a [data] table in the cluster file")
    writers: dict[str, list[int]] = {}
    owners = {job_id: lv.user for job_id, lv in live.items()}
    for job_id, lv in live.items():
        for name in lv.spec.outputs:
            writers.setdefault(name, []).append(job_id)
    produced = set(writers)
    missing = staging.uncataloged(req.inputs)
    outputs = getattr(staging, "outputs", None)  # ended jobs whose outputs are being staged out: no longer live
    for name, jobs in (outputs.writers(missing) if outputs is not None else {}).items():
        for job_id, owner in jobs:
            if job_id not in owners and owner:  # whose job is unknown: the stage-in waits for it, as it did
                owners[job_id] = owner
                writers.setdefault(name, []).append(job_id)
    theirs = [n for n in missing if any(owners[j] != user for j in writers.get(n, ()))]
    if theirs:
        how = "queued or running job will write it" if theirs[0] in produced else "ended job is staging it out"
        raise SubmitError(
            f"dataset {theirs[0]!r} is not in the catalog yet: another user's {how}; submit once it is published "
            "(hal dataset list)"
        )
    have = {ref for kind, ref in req.dependencies if kind == "afterok"}
    other = {ref: kind for kind, ref in req.dependencies if kind != "afterok"}
    for name in missing:  # afternotok/afterany on the writer started the reader with nothing to read (QA)
        for j in writers.get(name, ()):
            if str(j) in other and str(j) not in have:
                raise SubmitError(
                    f"job {j} writes {name!r}, which this job reads: it waits for that job with afterok, not "
                    f"{other[str(j)]}"
                )
    waits: dict[str, list[str]] = {}  # kept apart from the typed ones: met once the catalog holds the inputs
    for name in missing:
        for j in writers.get(name, ()):
            if str(j) not in have:
                waits.setdefault(str(j), []).append(name)
    req.dependencies += [("afterok", ref) for ref in waits]
    req.data_waits = waits
    why = staging.refuse(req.inputs, produced)
    if why is not None:
        raise SubmitError(f"job can never run on this cluster: {why}")
    if req.outputs and req.array is not None:
        raise SubmitError("--output-data on a job array: every task would write the same dataset")
    why = staging.refuse_outputs(req.outputs, produced)
    if why is not None:
        raise SubmitError(why)


# Slurm with no QOS configured (a fresh slurmdbd) has one QOS, "normal", every association may use; HAL has no
# QOS table or associations, so that is the whole list, for every user, admins included.
QOS_NAMES = ("normal",)


def admit_qos(req: JobRequest) -> None:
    """Refuse a QOS the cluster does not have, as sbatch does ("Invalid qos specification"): --qos nosuch was
    stored and shown (QOS=nosuch) while nothing honoured it. Names match in any case, as Slurm's; none given
    (``--qos=``, ``QOS=``) is the default, normal. `hal update` re-runs ``admit`` on a pending job's new request."""
    asked = req.qos.strip()
    known = {name.lower(): name for name in QOS_NAMES}
    if asked and asked.lower() not in known:
        raise SubmitError(
            f"invalid qos specification {asked[:64]!r}: known QOS: {', '.join(QOS_NAMES)} (HAL defines no others)"
        )
    req.qos = known[asked.lower()] if asked else QOS_NAMES[0]
    if req.env.get("SLURM_JOB_QOS", req.qos) != req.qos:  # a new dict: an update's request shares the old one's
        req.env = {**req.env, "SLURM_JOB_QOS": req.qos}


def admit(req: JobRequest, cluster: Cluster) -> None:
    """Fill the partition and its default time limit as Slurm does, and refuse what the partition or the QOS
    list forbids."""
    admit_qos(req)
    if not req.partition:
        default = cluster.default_partition()
        req.partition = default.name if default is not None else ""
    names = [p.name for p in cluster.partitions]
    asked = list(dict.fromkeys(p.strip() for p in req.partition.split(",")))  # -p a,b: whichever starts it first
    if req.partition_asked:  # admitted before (hal update): from the list as given, not the one its limit left
        again = [p.strip() for p in req.partition_asked.split(",") if p.strip() in names]
        asked = list(dict.fromkeys(again + [p for p in asked if p not in again]))
    for name in asked:
        if name not in names:
            raise SubmitError(f"invalid partition {name!r}; this cluster has {', '.join(names)}")
    parts = [cluster.partition(name) for name in asked]
    limits = [p.max_time for p in parts]
    unlimited = req.time_unlimited and req.time_limit is None  # asked for no limit: only unlimited partitions fit
    if req.time_limit is None and not unlimited and any(t is not None for t in limits):  # the partition's limit
        req.time_limit = min(t for t in limits if t is not None)  # is the default, as in Slurm; of several, the
    fit = [p for p in parts if p.max_time is None or (req.time_limit is not None and req.time_limit <= p.max_time)]
    if not fit:  # one any of them admits
        limit = " or ".join(f"{hms(p.max_time)} in partition {p.name!r}" for p in parts)  # as hal nodes shows it
        over = "--time=UNLIMITED is over" if unlimited else "--time must be at most"
        raise SubmitError(f"PartitionTimeLimit: {over} {limit}")
    req.partition_asked = ",".join(asked)
    req.partition = ",".join(p.name for p in fit)  # only those whose limits admit the job
    if req.time_min is not None and req.time_limit is not None and req.time_min > req.time_limit:
        raise SubmitError(
            f"invalid --time-min specification: {hms(req.time_min)} exceeds the job's time limit "
            f"{hms(req.time_limit)} (backfill may lower the limit to the minimum, never raise it)"
        )
    if not req.workdir.startswith("/"):
        raise SubmitError(f"working directory {req.workdir!r} must be an absolute path")
    for note in (segment_ignored(req), switches_on_blocks(req, cluster), switches_note(req, cluster)):
        if note and note not in req.notes:
            req.notes.append(note)


def segment_ignored(req: JobRequest) -> str | None:
    """--segment larger than the job's node count: dropped and said, as Slurm's eval_nodes_block ignores it
    ("Ignoring segment_size (N): larger than job size") and places the job as without one (it was refused)."""
    if not req.segment or not req.nodes or req.segment <= req.nodes:
        return None
    seg, req.segment = req.segment, None
    return f"--segment={seg} ignored: larger than the job's {req.nodes} nodes, as Slurm ignores it"


def switches_on_blocks(req: JobRequest, cluster: Cluster) -> str | None:
    """--switches on topology/block: dropped and said, as Slurm's eval_nodes_block never reads it (the job
    waited its maxwait for blocks it did not need, QA)."""
    topo = cluster.topology
    if not req.switches or topo is None or not topo.block_nodes:
        return None
    asked, req.switches, req.switches_wait = req.switches, None, None
    return (
        f"--switches={asked} accepted but ignored: this cluster's topology is blocks (topology/block), whose "
        "placement never reads --switches, as Slurm's topology/block ignores it"
    )


def switches_note(req: JobRequest, cluster: Cluster) -> str | None:
    """--switches=N for more nodes than any N leaf switches of its partition hold: accepted, as Slurm does (the
    job waits its maxwait, then runs on more), but said, since the wait buys nothing. Of several partitions
    (-p a,b), the one whose N switches hold most."""
    topo = cluster.topology
    if not req.switches or not req.nodes or topo is None or topo.outside_of != "switch":
        return None
    index = {node.name: i for i, node in enumerate(cluster.nodes)}
    parts = [cluster.partition(p) for p in req.partition.split(",")] if req.partition else []
    groups = [[index[n] for n in p.nodes] for p in parts] or [list(range(len(cluster.nodes)))]
    most = 0
    for group in groups:
        sizes = sorted(Counter(topo.paths[i] for i in group if i not in topo.outside).values())
        most = max(most, sum(sizes[-req.switches :]))
    if req.nodes <= most:
        return None
    some = any(len(group) < len(cluster.nodes) for group in groups)  # a partition of some nodes: named
    where = f"in partition{'s' if len(parts) > 1 else ''} {req.partition}, " if some else ""
    return (
        f"--switches={req.switches}: {where}{req.nodes} nodes never fit under {req.switches} leaf switch(es) (the "
        f"largest hold {most}); the job waits its maxwait for them, then runs on more, as in Slurm"
    )


def switches_ignored(req: JobRequest, placement: str) -> None:
    """--switches under a profile whose placement is not "topology": accepted and ignored, as Slurm without
    topology/tree ignores it, and said (it was refused, where README promised never a refusal; QA)."""
    if not req.switches or placement == "topology":
        return
    req.notes[:] = [n for n in req.notes if not n.startswith("--switches=")]  # no wait to speak of
    req.notes.append(
        f"--switches={req.switches} accepted but ignored: the profile's placement is {placement!r}, which keeps "
        'no switch tree (placement = "topology" does), as Slurm without topology/tree ignores it'
    )


def resolve_ref(store: Store, ref: str) -> list[int]:
    """``12`` (a job, or every task of array 12), ``12_3`` (one task) or ``12_[3-5,8]`` (those tasks, as scancel
    takes them) into job ids."""
    text = str(ref).strip()
    try:
        listed = task_list(text)  # the routes' parser (job_lookup.checked_ref): a list they take is one here
    except NotATaskList as exc:
        raise NotFound(str(exc)) from None
    if listed is not None:
        array_id, wanted = listed[0], set(listed[1])  # at most MaxArraySize tasks (option_values.parse_array)
        if array_id > MAX_JOB_ID:  # no job has it (PostgreSQL's integer overflowed: a 500)
            raise NotFound(f"no job {text}")
        rows = store.query(job_ids=[array_id])
        ids = [r["id"] for r in rows if r["array_job_id"] == array_id and r["array_task_id"] in wanted]
        if not ids:
            raise NotFound(f"no job {text}")
        return ids
    if any(len(part) > 12 for part in text.split("_")):  # beyond any job id, and not read as a number at all
        raise NotFound(f"no job {text[:40]}")
    try:
        parts = [int(x) for x in text.split("_", 1)]
    except ValueError:
        raise NotFound(f"{ref!r} is not a job id") from None
    if not all(0 <= part <= MAX_JOB_ID for part in parts):  # past the store's integer columns (PostgreSQL: a 500)
        raise NotFound(f"no job {text}")
    if len(parts) == 2:
        found = store.array_task(parts[0], parts[1])  # one row, not the whole array (bulk cancels were quadratic)
        ids = [found] if found is not None else []
    else:
        ids = store.array_tasks(parts[0]) or ([parts[0]] if store.get(parts[0]) is not None else [])
    if not ids:
        raise NotFound(f"no job {text}")
    return ids


def resolve_deps(store: Store, pairs: list[tuple[str, str]]) -> list[StoredDep]:
    """``--dependency`` pairs (kind, job reference) into (kind, job id, array id or None), one per job an
    array reference names; the array id marks the tasks of a whole array named (see hal/engine/dependencies)."""
    out: list[StoredDep] = []
    any_of = ANY_OF in pairs  # up to the marker: an afterok admit_data adds after it is required
    for kind, ref in pairs:
        if (kind, ref) == ANY_OF:
            any_of = False
            continue
        if kind == "singleton":  # resolved at admission (singleton_pairs): an afterany on each; none left: ""
            if not ref:
                continue
            kind = "afterany"
        typed, (ref, _, minutes) = ref, ref.partition("+")  # after:JOB+MINUTES
        try:
            ids = resolve_ref(store, ref)
        except NotFound as exc:
            raise SubmitError(f"--dependency={kind}:{typed}: {exc.args[0]}") from None
        whole = int(ref) if ref.isdigit() and ids != [int(ref)] else None
        corr = (
            {r["id"]: r["array_task_id"] for r in store.query(job_ids=ids)}
            if kind == "aftercorr" and ref.isdigit()
            else {}
        )
        out.extend((kind, j, whole, 60.0 * int(minutes or 0), any_of, corr.get(j)) for j in ids)
    return out
