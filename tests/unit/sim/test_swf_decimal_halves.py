"""QA (low): decimals in an SWF trace were rounded half to even (round()), so run times 100.5 and 101.5 ran as
100 and 102 s; every field now rounds halves up, as --jobs-out writes times, and -1 still means unknown."""

from __future__ import annotations

import io

import pytest

from hal.sim.swf import SwfRecord, parse_line, read_swf
from hal.sim.workload import to_workload

LINE = "{id} 0 -1 {run} 4 -1 -1 4 {req} -1 1 1 1 1 1 -1 -1 -1"


def test_run_times_with_halves_round_up_in_the_replay() -> None:
    text = "; MaxProcs: 8\n" + "\n".join(
        LINE.format(id=i, run=r, req=1000) for i, r in enumerate(["100.5", "101.5"], 1)
    )
    trace = read_swf(io.StringIO(text + "\n"))
    assert [r.run for r in trace.records] == [101, 102]  # were 100 and 102
    assert sorted(float(j.runtime) for j in to_workload(trace).jobs) == [101.0, 102.0]


@pytest.mark.parametrize(
    ("written", "read"),
    [("2.5", 3), ("3.5", 4), ("0.5", 1), ("99.4", 99), ("0.49999999999999994", 0), ("-1.0", -1), ("-1", -1),
     ("-0.5", 0), ("-1.5", -1), ("-0.6", -1)],
)  # fmt: skip
def test_every_field_rounds_halves_up(written: str, read: int) -> None:
    rec = parse_line(LINE.format(id=7, run="10", req=written).replace(" 4 -1 -1 4 ", f" 4 {written} -1 4 ", 1), 1)
    assert isinstance(rec, SwfRecord), rec
    assert (rec.cpu_time, rec.req_time) == (read, read)
