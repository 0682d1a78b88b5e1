"""Array task lists in a job reference, scancel's ``12_[1-3]``, ``12_[1,3]``, ``12_[0-15:4]``: read the same way
by the server and by `hal show`, and refused in those terms (not as an --array option no one gave)."""

from __future__ import annotations

import re
from functools import lru_cache

from hal.controller.option_values import DirectiveError, parse_array

TASK_LIST = re.compile(r"(\d{1,12})_\[(.*)")  # anything past the bracket is judged, a bad list included


class NotATaskList(ValueError):
    """A reference that opens a task list and names no tasks: a backwards range, a %limit, not numbers."""


def task_list(ref: str) -> tuple[int, list[int]] | None:
    """The array id and task ids ``ref`` lists, None for a reference without a list (``12``, ``12_3``)."""
    parsed = _parsed(ref)
    return (parsed[0], list(parsed[1])) if parsed is not None else None


@lru_cache(maxsize=32)  # a request reads its ref three times (job_lookup.checked_ref, resolve_ref, answer)
def _parsed(ref: str) -> tuple[int, tuple[int, ...]] | None:
    found = TASK_LIST.fullmatch(ref.strip())
    if found is None:
        return None
    body = found[2]
    try:
        indices, limit = parse_array(body[:-1]) if body.endswith("]") else ([], None)
    except DirectiveError:
        indices, limit = [], None
    if not indices or limit is not None:
        base = found[1]
        raise NotATaskList(
            f"{ref!r} does not name array tasks: give them as {base}_[1-4], {base}_[1,3,5-7] or "
            f"{base}_[0-15:4], each range from low to high"
        )
    return int(found[1]), tuple(indices)
