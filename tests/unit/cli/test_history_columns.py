"""`hal history` prints sacct's fixed-width columns: one line per job in a pipe, values cut with '+' (QA HIGH:
piped, it folded 'JobID' into 'Job/ID', split 'FAILED' over two lines and dropped columns past 160 characters)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.history import FIELDS
from hal.cli.main import build
from hal.cli.sacct_columns import SPELLING, WIDTHS

LONG = "n" * 170
RECORD = {
    "id": "1022", "job_id": 1022, "name": "wrap", "state": "FAILED", "alloc_cpus": 1, "req_cpus": 1,
    "partition": "debug", "account": "", "exit_code": 1, "signal": 0, "reason": None,
    "cause": "the job exited with code 1 after running for a while on its node", "user": "alice",
}  # fmt: skip


def run(monkeypatch: pytest.MonkeyPatch, *args: str, **rec: Any) -> list[str]:
    class Fake:
        def get(self, ref: str, duplicates: bool = False) -> dict[str, Any]:
            return {**RECORD, **rec}

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.history.client", client)
    got = CliRunner().invoke(build(["history"]), ["history", "-j", "1022", *args])
    assert got.exit_code == 0, got.output
    lines: list[str] = got.stdout.splitlines()
    return lines


def test_a_wide_column_keeps_every_other_whole_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    head, dashes, row = run(monkeypatch, "-o", "JobID,State,JobName%150")
    assert head.split() == ["JobID", "State", "JobName"] and dashes.split() == ["-" * 12, "-" * 10, "-" * 150]
    assert row.split() == ["1022", "FAILED", "wrap"] and row.endswith(" " * 146 + "wrap")  # right-aligned
    head, _, row = run(monkeypatch, "-o", "JobID,State,Reason%150,JobName%20")
    assert head.split() == ["JobID", "State", "Reason", "JobName"]
    assert row.startswith("1022             FAILED ") and row.endswith(" wrap") and RECORD["cause"] in row


def test_values_are_cut_with_a_plus_at_the_default_widths(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = run(monkeypatch, name=LONG, state="OUT_OF_MEMORY")  # the default columns
    assert len(lines) == 3, lines
    assert lines[0].split() == ["JobID", "JobName", "Partition", "Account", "AllocCPUS", "State", "ExitCode"]
    assert lines[2].split() == ["1022", "n" * 9 + "+", "debug", "1", "OUT_OF_ME+", "1:0"]
    assert [len(d) for d in lines[1].split()] == [12, 10, 10, 10, 10, 10, 8]  # sacct's default widths
    assert run(monkeypatch, "-n", "-o", "JobName%4,State%-8", name=LONG)[0] == "nnn+ FAILED"


def test_a_negative_width_left_aligns_and_headers_are_cut_without_a_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    head, dashes, row = run(monkeypatch, "-o", "JobName%-30,State%3")
    assert head == "JobName" + " " * 23 + " Sta" and dashes == "-" * 30 + " ---"
    assert row == "wrap" + " " * 26 + " FA+"


@pytest.mark.parametrize("spec", ["JobName%abc", "JobName%0", "JobName%"])
def test_a_width_that_is_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch, spec: str) -> None:
    monkeypatch.setattr("hal.cli.history.client", None)  # refused before the server is asked
    got = CliRunner().invoke(build(["history"]), ["history", "-o", f"JobID,{spec}"])
    assert got.exit_code == 2 and "whole number" in " ".join(got.output.split()), got.output


def test_parsable_output_stays_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(monkeypatch, "-P", "-o", "JobID,JobName%5", name=LONG) == ["JobID|JobName", f"1022|{LONG}"]


def test_every_field_has_a_width() -> None:
    assert set(FIELDS) == set(SPELLING) and all(WIDTHS.values())
