"""CLI plumbing: error messages and problem lists are printed as written, brackets included."""

from __future__ import annotations

import pytest

from hal.cli.common import fail, report_problems


def test_fail_prints_brackets_literally(capsys: pytest.CaptureFixture[str]) -> None:
    """Bug: Rich read "[[partitions]] #1" as markup and printed "[] #1"."""
    exit_ = fail("[[partitions]] #1: missing key 'name' in [bold]x.toml")
    assert exit_.exit_code == 2
    assert "error: [[partitions]] #1: missing key 'name' in [bold]x.toml" in capsys.readouterr().err


def test_report_problems_lists_the_first_five(capsys: pytest.CaptureFixture[str]) -> None:
    report_problems([f"line {i}: field [red] is odd" for i in range(8)])
    err = capsys.readouterr().err
    assert "8 job(s) skipped; first ones:" in err
    assert err.count("field [red] is odd") == 5
    report_problems([])
    assert capsys.readouterr().err == ""
