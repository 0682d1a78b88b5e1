"""What `hal explain` says of the start of a job waiting for node-cache room that has no forecast: the server's
reason (hal/controller/cache_forecast.py), not "one has no time limit" whatever kept it unknown (review)."""

from __future__ import annotations

from typing import Any

from hal.cli import explain as explain_cli
from tests.unit.cli.test_forecast_note import PENDING


def test_explain_prints_the_servers_reason_for_no_forecast_start(capsys: Any) -> None:
    why = "only 1 of the nodes it may use have a node cache; it needs 2"
    explain_cli._pending({**PENDING, "reason": "CacheWait", "predicted_start": None, "start_unknown": why})
    said = " ".join(capsys.readouterr().out.split())
    assert f"forecast start: N/A ({why})" in said and "no time limit)" not in said


def test_explain_guesses_no_reason_the_server_did_not_give(capsys: Any) -> None:
    """Not (yet) covered by a forecast: N/A, without a cause the server never named."""
    explain_cli._pending({**PENDING, "reason": "CacheWait", "predicted_start": None})
    said = " ".join(capsys.readouterr().out.split())
    assert "forecast start: N/A" in said and "no time limit)" not in said
