"""Shared test fixtures: where ../shared/traces is, and a skip with a clear message when it is not."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"


def shared_trace(name: str) -> Path:
    """A file under ../shared/traces, or skip: CI has ../shared beside the checkout, a user's machine may not."""
    path = SHARED_TRACES / name
    if not path.exists():
        pytest.skip(f"../shared/traces not found: {path} is missing (CI has it beside the checkout)")
    return path
