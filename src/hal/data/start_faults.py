"""A node cache folder the server cannot use when it starts (a read-only disk, a file where a folder goes): that
node is drained with the OS's own reason, as a running server drains a node whose cache fails a stage-in, and the
server starts with the others. QA: one node's read-only cache disk stopped `hal server`, with a guessed
"Permission denied" for EROFS. An administrator expects what Slurm does: slurmd failing on one node does not stop
slurmctld, the node goes DRAIN with a reason, and `scontrol update State=RESUME` puts it back once fixed
(``hal resume``; ``hal.data.cache_roots`` opens the folder again once it works). A cache_dir no node can use (a
typo in its parent) is a configuration error, not a disk fault: the start is refused, naming the path, as is a
default stage-out folder it cannot use (every node's outputs go there)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hal.data.owner import DataPlaneLock, claim, owner_home

log = logging.getLogger("hal.data")
UNUSABLE = "data cache unusable: "  # the drain reason's start (hal.data.node_faults.drain_broken says it too)


def why(exc: OSError) -> str:
    """The OS's reason, in words an administrator reads."""
    return "a file stands where its folder should be" if isinstance(exc, FileExistsError) else str(exc.strerror)


def claim_folders(
    controller: Any, catalog: Path | None, pattern: str, names: list[str], outputs: bool
) -> DataPlaneLock:
    """The data plane's lock files taken (``hal.data.owner.claim``); the node folders it could not use are in its
    ``faults``. Raises ValueError when no node's folder works, or the default stage-out one (``outputs``) does not."""
    folders = [Path(pattern.format(node=n)) for n in names]
    extra = [Path(pattern.format(node="outputs"))] if outputs else []
    try:  # the catalog's lock file: not a node's fault
        owned = claim(catalog, [*folders, *extra], owner_home(controller), spare=[*folders, *extra])
    except OSError as exc:
        raise ValueError(f"[data] cache_dir {pattern!r}: cannot use {exc.filename}: {why(exc)}") from exc
    said = ""
    if folders and all(f in owned.faults for f in folders):
        said = " (no node's cache folder can be used: is the path right?)"
        first = owned.faults[folders[0]]
    elif faulty := [f for f in extra if f in owned.faults]:
        first = owned.faults[faulty[0]]
    else:
        return owned
    owned.release()
    raise ValueError(f"[data] cache_dir {pattern!r}: cannot use {first.filename}: {why(first)}{said}") from first


def drain_unusable(controller: Any, caches: dict[str, Any], faults: dict[Path, OSError]) -> list[str]:
    """Each node whose cache folder could not be made, locked or read drained with the OS's reason (its cache keeps
    the error in ``fault``: a stage-in there fails with it, draining the node again if it was resumed unfixed); the
    nodes. A node an administrator drained for another reason keeps that drain."""
    from hal.data.node_faults import drain_broken

    drained: dict[str, Any] = controller.store.drained()
    said = []
    for node, cache in caches.items():
        exc = faults.get(cache.root) or cache.fault
        if exc is None:
            continue
        cache.fault = exc
        reason = (
            f"cannot use node {node}'s cache folder {cache.root} at start: {exc.filename or cache.root}: {why(exc)}"
        )
        before = str((drained.get(node) or {}).get("reason") or "")
        if before and not before.startswith(UNUSABLE):
            log.warning("%s; the node stays drained (%s)", reason, before)
        else:
            log.warning("%s; the node is drained (hal resume %s once it is fixed)", reason, node)
            drain_broken(controller, {node: reason})
        said.append(node)
    return said
