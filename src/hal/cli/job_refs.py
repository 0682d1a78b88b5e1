"""Job lists as sacct -j and scontrol take them, ``12,13_2,14_[1,3-5]``: a comma inside a task list is the
list's own (it was split there, into ``14_[1`` and ``3-5]``)."""

from __future__ import annotations

import re

_REF = re.compile(r"[^,\[]*(?:\[[^\]]*\][^,\[]*)*\[?[^,]*")


def split_refs(text: str) -> list[str]:
    """Each job reference of a comma-separated list, stripped, in order, each once."""
    refs = (m.group(0).strip() for m in _REF.finditer(text))
    return list(dict.fromkeys(r for r in refs if r))
