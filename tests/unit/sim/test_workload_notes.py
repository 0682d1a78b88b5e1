"""What a trace's header says that a reader should know (a conflicting second MaxProcs line, no user ids) reaches
every replay's notes, not only `hal trace check` (QA)."""

from __future__ import annotations

import io

from hal.sim.swf import read_swf
from hal.sim.workload import to_workload

TRACE = """; MaxProcs: 16
; MaxProcs: 32
1 0 0 100 4 -1 -1 4 200 -1 1 -1 -1 -1 -1 -1 -1 -1
2 10 0 100 4 -1 -1 4 200 -1 1 -1 -1 -1 -1 -1 -1 -1
"""


def test_header_notes_reach_the_replay() -> None:
    notes = to_workload(read_swf(io.StringIO(TRACE))).notes
    assert any("differs from '16' on line 1" in n for n in notes), notes
    assert any("no user ids" in n for n in notes), notes
