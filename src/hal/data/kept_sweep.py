"""Failed stage-outs' files removed while the server runs, once ``[data] keep_failed_outputs`` has passed.

They were removed only by the next start (``hal.data.restart``), so a server that ran for weeks kept every failed
output in its job folder, outside the cache's limit, for as long as it ran. The cache folder watcher
(``hal.data.cache_roots``) calls this on each pass; the rule is the start's own (``restart._leftover``), applied
only to folders of jobs that are over: ended, not running, no output of theirs still being staged out.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hal.data.restart import _leftover
from hal.data.stager import JOBS
from hal.model.job import JobState

if TYPE_CHECKING:
    from hal.data.live import LiveStaging

log = logging.getLogger("hal.data")


def sweep_kept(staging: LiveStaging, controller: Any) -> int:
    """Look at each ended job's folder left in a node cache; the number of folders looked at."""
    stager, outputs = staging.stager, staging.outputs
    if stager.keep_failed_outputs <= 0:  # 0 keeps them for good
        return 0
    looked = 0
    for node, cache in list(stager.caches.items()):
        for folder in sorted((cache.root / JOBS).glob("*")):
            if not folder.name.isdigit():
                continue
            job_id = int(folder.name)
            with stager.guard():
                if job_id in controller.live or not _over(controller, job_id):
                    continue
                if outputs is not None and "staging" in outputs.state_of(job_id).values():
                    continue
                if folder.exists():
                    _leftover(staging, controller, node, folder)
                    looked += 1
    return looked


def _over(controller: Any, job_id: int) -> bool:
    row = controller.store.get(job_id)
    if row is None:
        return False  # a folder no record names: the start that finds it removes it (``restart._leftover``)
    try:
        return JobState[str(row["state"])].terminal
    except KeyError:
        return False
