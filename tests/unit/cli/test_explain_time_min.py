"""`hal explain`'s --time-min offer: the limit backfill would start the job with now, and the minimum to ask for
when that limit covers its predicted run (else the offer is said to fall short of it)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from hal.cli import explain


def said(monkeypatch: pytest.MonkeyPatch, got: dict[str, float | None] | None) -> str:
    buf = io.StringIO()
    monkeypatch.setattr(explain, "out", Console(file=buf, width=300))
    explain._min_advice("12", got)  # type: ignore[arg-type]
    return " ".join(buf.getvalue().split())


def test_an_offer_that_covers_the_predicted_run_names_the_minimum_to_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    text = said(monkeypatch, {"limit": 6120.0, "predicted_run": 2100.0, "time_min": 2160.0})
    assert "try: --time-min=36:00: backfill would start it now with TimeLimit=1:42:00" in text, text
    assert "its predicted run time is 35:00" in text and "hal update 12 TimeMin=36:00" in text, text


def test_an_offer_under_the_predicted_run_is_said_to_fall_short(monkeypatch: pytest.MonkeyPatch) -> None:
    text = said(monkeypatch, {"limit": 1200.0, "predicted_run": 2100.0, "time_min": None})
    assert text == "with a --time-min it could start now, but only with TimeLimit=20:00, under its predicted run 35:00"
    assert said(monkeypatch, None) == ""
