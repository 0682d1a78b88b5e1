"""The data plane's worker threads (stage-in, stage-out) run in thread pools, where an exception no ``except``
expected was kept in a future nobody reads: the job sat in STAGE_OUT or CF for good, its readers and dependents
with it, and nothing was logged (QA: a folder output holding a link). Each worker body runs through ``guarded``:
such an error is logged with its traceback, and the caller's ``end`` closes the attempt with a reason."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("hal.data")


def guarded(what: str, work: Callable[[], None], end: Callable[[Exception], None]) -> None:
    """Run ``work``; an exception out of it is logged (``what`` names the job and step) and given to ``end``."""
    try:
        work()
    except Exception as exc:
        log.exception("%s: unexpected error", what)
        try:
            end(exc)
        except Exception:  # the store closing with the server: its next start takes the job up again
            log.exception("%s: the error's outcome could not be recorded either", what)


def internal(exc: BaseException) -> str:
    """The reason a job's owner reads for an error HAL did not expect (the log has the rest)."""
    return f"internal error: {type(exc).__name__}: {exc} (the server's log has its traceback)"
