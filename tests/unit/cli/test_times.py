"""Times as sacct reads and prints them."""

from __future__ import annotations

import time

import pytest
import typer

from hal.cli.live import duration, parse_when, sacct_duration


def test_now_minus_a_count_with_slurms_units() -> None:
    for text, seconds in [("now-1minutes", 60), ("now-2h", 7200), ("now-90", 90), ("now-3days", 259200),
                          ("now-1week", 604800), ("now", 0), ("NOW-5min", 300)]:  # fmt: skip
        assert abs(time.time() - seconds - (parse_when(text) or 0)) < 5, text
    with pytest.raises(typer.Exit):  # a clear error, not a traceback (it crashed on 'minutes')
        parse_when("now-3parsecs")


def test_sacct_prints_hh_mm_ss_where_squeue_prints_m_ss() -> None:
    assert sacct_duration(5) == "00:00:05" and duration(5) == "0:05"
    assert sacct_duration(90061) == "1-01:01:01" and sacct_duration(None) == "UNLIMITED"
