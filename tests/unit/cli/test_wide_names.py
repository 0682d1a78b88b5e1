"""Columns are padded and cut in terminal cells: a CJK character or an emoji takes two (QA: a job named
'ジョブ名🚀' shifted the columns after it by five)."""

from __future__ import annotations

from rich.cells import cell_len

from hal.cli.common import plain_columns
from hal.cli.squeue_format import render


def test_squeue_codes_pad_and_cut_wide_names_in_cells() -> None:
    lines = [render("%.6i %-8j|%2t", {"id": 17, "name": name, "state": "RUNNING"}) for name in ("ジョブ名🚀", "plain")]
    assert lines == ["    17 ジョブ名|R ", "    17 plain   |R "] or [cell_len(x.split("|")[0]) for x in lines] == [
        15,
        15,
    ]
    assert render("%-7j|", {"name": "ジョブ名🚀"}) == "ジョブ |"  # cut to 7 cells, a wide character not halved


def test_plain_columns_line_up_wide_names() -> None:
    text = plain_columns(["JOBID", "NAME", "ST"], [["17", "ジョブ名🚀", "R"], ["18", "plain", "R"]])
    starts = [cell_len(line[: line.rindex("R" if i else "ST")]) for i, line in enumerate(text.splitlines())]
    assert len(set(starts)) == 1, text
