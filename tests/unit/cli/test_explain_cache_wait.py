"""What `hal explain` says of the start of a job waiting for node-cache room that has no forecast."""

from __future__ import annotations

from typing import Any

from hal.cli import explain as explain_cli
from tests.unit.cli.test_forecast_note import PENDING


def test_explain_says_why_a_cache_wait_has_no_forecast_start(capsys: Any) -> None:
    """The forecast is N/A when a job pinning the room has no known end; explain said nothing of the start."""
    explain_cli._pending({**PENDING, "reason": "CacheWait", "predicted_start": None})
    said = " ".join(capsys.readouterr().out.split())
    assert "forecast start: N/A (it starts once jobs pinning its nodes' caches end; one has no time limit)" in said
