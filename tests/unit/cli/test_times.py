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


def test_times_of_day_and_dates_are_the_most_recent_past_ones_as_sacct_reads_them() -> None:
    """QA: -S 23:00 at 07:30 meant tonight (nothing listed); sacct means yesterday's. today, midnight and MM/DD
    were refused."""
    from datetime import datetime, timedelta

    now = datetime.now()
    midnight = datetime.combine(now.date(), datetime.min.time())
    assert parse_when("today") == parse_when("midnight") == midnight.timestamp()
    later = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    if later.date() == now.date():  # an hour from now, still today: yesterday's
        assert parse_when(later.strftime("%H:%M")) == (later - timedelta(days=1)).timestamp()
    earlier = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    if earlier.date() == now.date():
        assert parse_when(earlier.strftime("%H:%M")) == earlier.timestamp()
    assert parse_when(f"{now.month}/{now.day}") == midnight.timestamp()
    assert parse_when("01/02/25") == datetime(2025, 1, 2).timestamp()
    for bad in ("25:00", "13/40", "sometime"):
        with pytest.raises(typer.Exit):
            parse_when(bad)


def test_a_start_after_the_end_is_refused() -> None:
    from hal.cli.history import window

    with pytest.raises(typer.Exit):
        window("2026-12-01", "2026-11-29")
    assert window("2026-11-29", "2026-12-01")[0] is not None and window(None, None) == (None, None)
