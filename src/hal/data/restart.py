"""The data plane after a controller restart: node caches checked against the catalog, the $HAL_DATA folders of
jobs that are over removed, running jobs' inputs pinned again, and outputs left unsettled staged out."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from hal.data.cache_wait import restore_waiters
from hal.data.catalog import public_uri
from hal.data.outputs import EVENT, NEVER_STAGED, REQUEUED, states_from_events
from hal.data.stager import JOBS
from hal.data.start_faults import why as os_reason
from hal.executors.hostlist import expand

if TYPE_CHECKING:
    from hal.data.live import LiveStaging

log = logging.getLogger("hal.data")


def resume(staging: LiveStaging, controller: Any, since: float) -> dict[str, int]:
    """After a restart (the records recovered): trust as datasets only cached files the catalog registered
    at that node with the right size; delete, said (``_unlisted``), the copies of its datasets of another size,
    but keep those of the right size at nodes it lists no replica at (``_unlisted``), and those of names it does
    not know (``_unnamed``), said loudly (a catalog restored from an older file), unverified until a dataset with
    their contents is registered under their name (checksummed before their first use); with no
    catalog file where one should be (moved away, or [data] catalog misspelt) every cached copy is kept that way
    (``_no_catalog``); an unreadable one stops the start before this. Keep the
    $HAL_DATA folders of jobs still running and of outputs still to be staged out, and of the other jobs only
    the outputs that never reached their destination (a failed stage-out, or none tried: ``_unsent``). Pin the
    inputs of the jobs still running (their pins died with the old controller), and stage out the outputs of
    jobs that completed since ``since`` with no settled stage-out (they ended while it was down, or it stopped
    mid-copy); jobs held for cache room are waiters again (``hal.data.cache_wait.restore_waiters``). Counts,
    for the log; ``missing``: replicas whose cached file is gone, each said in a warning."""
    stager = staging.stager
    catalog, counts = stager.catalog, {"dropped": 0, "missing": 0, "kept": 0, "pinned": 0, "outputs": 0}
    no_file = _no_catalog(staging, controller)  # no catalog file read: the copies it cannot match are kept
    unnamed: list[str] = []  # copies a catalog read fine does not name: kept too (``_unnamed``)
    unlisted: list[str] = []  # copies of its datasets, of their size, at a node it lists no replica at: kept too
    deleted: list[str] = []  # copies of its datasets of another size: deleted, said (``_unlisted``)
    catch_up = _unsettled(staging, controller, since)
    running = _running_nodes(controller)
    keep = {(node, lv.job_id) for job_nodes, lv in running for node in job_nodes}
    keep |= {(node, job_id) for job_id, _, node, _ in catch_up}
    handed = staging.outputs.handed if staging.outputs is not None else lambda job_id: False
    with stager.guard():
        for node, cache in stager.caches.items():
            for name, size in list(cache.entries.items()):
                dataset = catalog.datasets.get(name)
                if node in catalog.replicas.get(name, {}) and dataset is not None and dataset.size == size:
                    continue
                if no_file or dataset is None or dataset.size == size:  # checksummed against the dataset under its
                    counts["unmatched"] = counts.get("unmatched", 0) + 1  # name before a job reads it (a replica then)
                    if not no_file:
                        (unnamed if dataset is None else unlisted).append(f"{name} on {node}")
                    continue
                cache.drop(name)
                counts["dropped"] += 1
                why = ("changed while no server ran" if node in catalog.replicas.get(name, {})
                       else "not the dataset now registered under that name")  # fmt: skip
                deleted.append(f"{name} on {node} ({size:,} bytes where the dataset has {dataset.size:,}: {why})")
            for name in [n for n, reps in catalog.replicas.items() if node in reps and not cache.has(n)]:
                rep = catalog.replicas[name][node]
                if Path(rep.uri) != cache.path_of(name):  # a stored copy registered under a name now a node's
                    log.warning("copy of %r at %s (%s) forgotten: %s is now a node of the cluster; hal dataset "
                                "add-copy registers it under another location", name, node, public_uri(rep.uri),
                                node)  # fmt: skip
                else:  # said and counted as a running server says it (QA: 'dropped': 0 and no word)
                    counts["missing"] += 1
                    how = f"unreadable: its cache folder is unusable ({os_reason(cache.fault)})" if cache.fault else (
                        "deleted while no server ran")  # fmt: skip
                    log.warning("the cached copy of %r on %s was %s; its replica is dropped from the catalog", name,
                                node, how)  # fmt: skip
                catalog.remove_replica(name, node)
            for folder in list((cache.root / JOBS).glob("*")):
                job_id = int(folder.name) if folder.name.isdigit() else -1
                if (node, job_id) in keep or handed(job_id):  # recover() handed it on: its outputs are copied now
                    counts["kept"] += 1
                else:
                    leftover_job_dir(staging, controller, node, folder)
        for job_nodes, lv in running:
            for held in [stager.caches[n] for n in job_nodes if n in stager.caches]:
                for name in lv.spec.inputs:
                    held.pin(name, lv.job_id)
                    counts["pinned"] += 1
        counts["trimmed"] = sum(_trim(stager, node, cache) for node, cache in stager.caches.items())
    _unnamed(catalog, unnamed)
    _unlisted(catalog, unlisted, deleted)
    counts["cache_waits"] = restore_waiters(staging, controller)  # CacheWait holds, woken when room frees
    for job_id, names, node, user in catch_up:
        staging.outputs.after_end(controller, job_id, names, node, "COMPLETED", user)  # type: ignore[union-attr]
        counts["outputs"] += len(names)
    return counts


def _no_catalog(staging: LiveStaging, controller: Any) -> bool:
    """Whether the catalog file is missing (``Catalog.missing``). Where one was before (copies in the node caches,
    or jobs reading datasets) that is said as a warning naming the file (QA: a catalog moved away logged only
    "dropped: 11" at INFO and the cached copies were deleted, and the jobs reading them failed)."""
    catalog = staging.stager.catalog
    if not catalog.missing:
        return False
    copies = sorted({name for cache in staging.stager.caches.values() for name in cache.entries})
    readers = sorted(lv.job_id for lv in controller.live.values() if lv.spec.inputs)
    if copies or readers:
        catalog.replacing = True  # the new file it writes is said, naming what a restored old one would lose
        log.warning(
            "catalog %s does not exist (moved away, or [data] catalog misspelt?), yet %s: its datasets are unknown "
            "now. The cached copies are kept (a dataset registered again under the same name is checked against "
            "its copy), and pending jobs reading an unknown dataset wait (reason UnknownDataset): restore the file "
            "and restart the server (before anything is registered: the old file does not hold it), or register "
            "the datasets again with hal dataset add",
            catalog.path, "; ".join(w for w in (_listed("the node caches hold", copies),
                                                 _listed("jobs read datasets:", readers)) if w),
        )  # fmt: skip
    return True


def _unnamed(catalog: Any, copies: list[str]) -> None:
    """Cached copies the catalog read fine does not name: kept, said (QA: a catalog restored from before an output
    was registered deleted that output's cached copy, said only as 'dropped': 1 at INFO)."""
    if copies:
        log.warning(
            "catalog %s does not name %s: kept (counted in their caches and evicted in LRU order when room is "
            "needed, never read by a job) until a dataset with the same contents is registered under the name "
            "(hal dataset add NAME URI; a catalog file restored from before they were registered?)",
            catalog.path, _listed("the cached copies", copies),
        )  # fmt: skip


def _unlisted(catalog: Any, kept: list[str], deleted: list[str]) -> None:
    """Cached copies of datasets the catalog holds at nodes it lists no replica at (QA: a catalog restored from
    before they were staged deleted them, said only as 'dropped': 1 at INFO): kept to be checksummed before their
    first use, and a replica again when they match; those of another size than the dataset's are deleted, said."""
    if kept:
        log.warning(
            "catalog %s lists no replica for %s: kept, and checked against the dataset's checksum before a job "
            "reads them (a replica again when they match; a catalog file restored from before they were staged?)",
            catalog.path, _listed("the cached copies", kept),
        )  # fmt: skip
    if deleted:
        log.warning("catalog %s: deleted %s", catalog.path, _listed("the cached copies", deleted))


def _listed(what: str, items: list[Any]) -> str:
    shown = ", ".join(map(str, items[:10])) + (f" and {len(items) - 10} more" if len(items) > 10 else "")
    return f"{what} {shown}" if items else ""


def _trim(stager: Any, node: str, cache: Any) -> int:
    """A cache over a capacity made smaller since the last start: least recently used unpinned datasets go
    until it fits, or as far as the pinned ones allow (said in the log); how many went. (QA: it stayed over
    its limit, and an input cached there was refused as larger than every cache.)"""
    over = cache.used() - cache.capacity
    if over <= 0:
        return 0
    gone: list[str] = []
    for name in list(cache.entries):
        if cache.used() <= cache.capacity:
            break
        if not cache.pins.get(name):
            cache.drop(name)
            stager.catalog.remove_replica(name, node)
            gone.append(name)
    left = cache.used() - cache.capacity
    still = f"; still {left} bytes over, pinned by running jobs" if left > 0 else ""
    log.warning(
        "cache of %s held %d bytes over its capacity of %d (cache_bytes made smaller?): evicted %s%s",
        node, over, cache.capacity, ", ".join(gone) or "nothing", still,
    )  # fmt: skip
    return len(gone)


def leftover_job_dir(staging: LiveStaging, controller: Any, node: str, folder: Path, sweep: bool = False) -> None:
    """The $HAL_DATA of a job that is over: gone, but for the outputs that never reached their destination.
    ``sweep`` (the running server's, ``hal.data.kept_sweep``): outputs no event shows settled are kept too."""
    row = controller.store.get(int(folder.name)) if folder.name.isdigit() else None
    if row is None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    staging.stager.close_job_dir(
        node, int(row["id"]), keep=_unsent(controller, row, folder, staging.stager.keep_failed_outputs, sweep)
    )


class Sorted(NamedTuple):
    """An ended job's outputs in its folder: ``kept`` (name -> state), ``removed`` (kept past the window: name
    -> state), ``tell`` (kept, their owner not yet told where), ``since`` (when told: ``_kept_since``) and
    ``unsettled`` (no event settles them: kept by the sweep, a stage-out may be about to send them)."""

    kept: dict[str, str]
    removed: dict[str, str]
    tell: list[str]
    since: dict[str, float]
    unsettled: list[str]


def sort_outputs(row: dict[str, Any], history: list[dict[str, Any]], folder: Path, keep: float, now: float) -> Sorted:
    """What ``_unsent`` does with each declared output in ``folder``, from the job's row and events (read
    without the controller's lock by the sweep, to skip folders with nothing due)."""
    told, since = states_from_events(history), _kept_since(history)
    never = row["state"] == "FAILED" and str(row["cause"] or "").startswith(NEVER_STAGED)
    declared = json.loads(row["request"] or "{}").get("outputs") or []
    states = {n: told.get(n) or (f"failed: {row['cause']}" if never else "") for n in declared}
    kept = {n: s for n, s in states.items() if s.startswith("failed") and _a_file(folder / n)}
    removed = {n: s for n, s in kept.items() if keep > 0 and n in since and now - since[n] > keep}
    kept = {n: s for n, s in kept.items() if n not in removed}
    unsettled = [n for n, s in states.items() if not s and _a_file(folder / n)]
    return Sorted(kept, removed, [n for n in kept if n not in since], since, unsettled)


def _unsent(controller: Any, row: dict[str, Any], folder: Path, keep: float, sweep: bool = False) -> tuple[str, ...]:
    """The declared outputs in an ended job's $HAL_DATA that never reached their destination: a failed
    stage-out's, and those of a job a server without a data plane ended (it could never stage them out:
    ``Controller._ended``, ``abandon_data_jobs``). The user's only copy, so kept (QA: the next start with a data
    plane deleted a running job's output that way, its stage-out never tried). The first start that keeps one
    says so, naming the job and the file, and records where it is, which `hal show` prints. Kept ``keep`` s
    (``[data] keep_failed_outputs``) after that was first said, then removed by the next start, said the same way
    (QA: they piled up outside the cache's limit, kept through every restart); never by the start that said it.
    ``sweep``: outputs no event settles are kept as well (only a failure settled past the window removes one)."""
    now = controller.clock()
    out = sort_outputs(row, controller.store.events_of(row["id"]), folder, keep, now)
    events = []
    for name, state in out.removed.items():  # close_job_dir removes what it is not to keep
        said = "job %s: output %r, kept at %s since its stage-out failed, is removed: said kept over %g s ago"
        log.warning(f"{said} ([data] keep_failed_outputs)", row["id"], name, folder / name, keep)
        why = state.split(" (kept at ")[0]
        events.append((row["id"], now, EVENT, f"{name}: {why} (removed after keep_failed_outputs)"))
    for name in out.tell:  # a failed stage-out's own event said it already; the keep window starts now
        state = out.kept[name]
        log.warning("job %s: output %r never reached its destination (%s); kept at %s", row["id"], name,
                    state.removeprefix("failed: "), folder / name)  # fmt: skip
        events.append((row["id"], now, EVENT, f"{name}: {state} (kept at {folder / name})"))
    if events:
        with controller.store.engine.begin() as conn:
            controller.store.add_events(conn, events)
    return (*out.kept, *(out.unsettled if sweep else ()))


def _kept_since(events: list[dict[str, Any]]) -> dict[str, float]:
    """When the owner was first told where each failed output of the job's last attempt is kept (its "kept at"
    event): the keep window counts from then, not from the job's end (QA: an output a server without a data plane
    left was deleted by the first start that found it, over ``keep_failed_outputs`` after the job ended, its owner
    never told it was kept)."""
    since: dict[str, float] = {}
    for e in events:
        if e["state"] == REQUEUED:
            since.clear()
            continue
        name, _, state = str(e["cause"]).partition(": ")
        if e["state"] == EVENT and state.startswith("failed") and "(kept at " in state:
            since.setdefault(name, float(e["time"]))
    return since


def _a_file(path: Path) -> bool:
    """An output the job wrote: a file or a folder, never a link."""
    return (path.is_file() or path.is_dir()) and not path.is_symlink()


def _running_nodes(controller: Any) -> list[tuple[list[str], Any]]:
    out = []
    for lv in controller.live.values():
        act = controller.sched.running.get(lv.job_id)
        if lv.state == "RUNNING" and act is not None:
            out.append(([controller.table.names[int(i)] for i in act.alloc.nodes], lv))
    return out


def _unsettled(staging: LiveStaging, controller: Any, since: float) -> list[tuple[int, tuple[str, ...], str, str]]:
    """(job, outputs, node, user) of jobs in STAGE_OUT, or that completed since ``since``, with declared outputs
    never settled; the outputs that did settle are remembered, so one that failed still fails the job. Jobs
    this server already took in hand (they ended while it was down, and recover() handed them on) are left out:
    a second stage-out of an output already moved into the cache failed, and turned the job FAILED."""
    outputs = staging.outputs
    if outputs is None:
        return []
    out = []
    rows = controller.store.query(states=["STAGE_OUT"], limit=200_000)
    rows += controller.store.query(states=["COMPLETED"], since=since, limit=200_000)
    for row in {int(r["id"]): r for r in rows}.values():
        if outputs.handed(int(row["id"])):
            continue
        declared = json.loads(row["request"]).get("outputs") or []
        if not declared or not row["nodelist"]:
            continue
        told = states_from_events(controller.store.events_of(row["id"]))
        missing = tuple(n for n in declared if n not in told)
        if missing or row["state"] == "STAGE_OUT":
            outputs.recorded(controller, int(row["id"]), told, conclude=not missing)
        if missing:
            out.append((int(row["id"]), missing, expand(row["nodelist"])[0], str(row["user"] or "")))
    return out
