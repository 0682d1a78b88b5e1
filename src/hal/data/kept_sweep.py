"""Failed stage-outs' files removed while the server runs, once ``[data] keep_failed_outputs`` has passed.

They were removed only by the next start (``hal.data.restart``), so a server that ran for weeks kept every failed
output in its job folder, outside the cache's limit, for as long as it ran. The cache folder watcher
(``hal.data.cache_roots``) calls this on each pass; the rule is the start's own (``restart.leftover_job_dir``),
applied only to folders of jobs that are over: ended, not running, no output of theirs still being staged out.

Not before the start's ``resume`` has finished (``LiveStaging.resumed``): until then the outputs a restart is to
stage out are marked nowhere, and a pass deleted one never sent (review). Even then only a failure settled past
the window removes an output. Rows and events are read without the controller's lock, and a folder whose outputs
are not due yet (when they are is remembered in ``LiveStaging.kept_since``) costs nothing more; the lock is taken
only to look again that the job is over and act (review: every folder's reads and writes held it, every pass).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hal.data.kept_room import recount
from hal.data.restart import leftover_job_dir, sort_outputs
from hal.data.stager import JOBS
from hal.model.job import JobState

if TYPE_CHECKING:
    from pathlib import Path

    from hal.data.live import LiveStaging

log = logging.getLogger("hal.data")


def sweep_kept(staging: LiveStaging, controller: Any) -> int:
    """Look at each ended job's folder left in a node cache; the number of folders acted on. Then what they
    hold is counted in their caches again (``hal.data.kept_room``): those removed no longer, new ones too."""
    looked = _sweep(staging, controller)
    recount(staging, controller)
    return looked


def _sweep(staging: LiveStaging, controller: Any) -> int:
    stager, memo = staging.stager, staging.kept_since
    keep = stager.keep_failed_outputs
    if keep <= 0 or not staging.resumed.is_set():  # 0 keeps them for good
        return 0
    looked, seen = 0, set[tuple[str, int]]()
    for node, cache in list(stager.caches.items()):
        for folder in sorted((cache.root / JOBS).glob("*")):
            if not folder.name.isdigit():
                continue
            key = (node, int(folder.name))
            seen.add(key)
            if key in memo and controller.clock() - memo[key] <= keep:  # nothing due there yet
                continue
            memo.pop(key, None)
            if _due(staging, controller, node, folder, keep) and _act(staging, controller, node, folder):
                looked += 1
    for key in set(memo) - seen:  # folders gone: forgotten
        memo.pop(key, None)
    return looked


def _due(staging: LiveStaging, controller: Any, node: str, folder: Path, keep: float) -> bool:
    """Whether the folder has something to do now (without the controller's lock); when its outputs are all
    kept and told, when the first was told is remembered, so the next passes skip it until then."""
    job_id = int(folder.name)
    if job_id in controller.live or busy_out(staging, job_id):
        return False
    row = controller.store.get(job_id)
    if not over(row):
        return False
    out = sort_outputs(row, controller.store.events_of(job_id), folder, keep, controller.clock())
    if out.removed or out.tell or not (out.kept or out.unsettled):
        return True
    if not out.unsettled:  # all told: due when the first told is past the window (restart._kept_since)
        staging.kept_since[(node, job_id)] = min(out.since[n] for n in out.kept)
    return False


def _act(staging: LiveStaging, controller: Any, node: str, folder: Path) -> bool:
    """Under the controller's lock: the job looked at again (a requeue or a stage-out may have begun), then its
    folder tidied by the start's rule, keeping what no event settles."""
    job_id = int(folder.name)
    with staging.stager.guard():
        if job_id in controller.live or busy_out(staging, job_id) or not over(controller.store.get(job_id)):
            return False
        if not folder.exists():
            return False
        leftover_job_dir(staging, controller, node, folder, sweep=True)
    return True


def busy_out(staging: LiveStaging, job_id: int) -> bool:
    outputs = staging.outputs
    return outputs is not None and "staging" in outputs.state_of(job_id).values()


def over(row: dict[str, Any] | None) -> bool:
    """An ended job's record; none (a folder no record names) is the next start's (``restart.leftover_job_dir``)."""
    if row is None:
        return False
    try:
        return JobState[str(row["state"])].terminal
    except KeyError:
        return False
