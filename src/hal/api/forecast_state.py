"""``forecast_pending`` from the annotated rows into the API's job records (``views.record`` copies only the
public fields): with ``start``, each pending job says whether its start forecast is still being made in the
background, so clients can tell "ask again in a few seconds" from "no forecast" (hal/controller/reasons.py)."""

from __future__ import annotations

from typing import Any

FIELD = "forecast_pending"


def with_forecast_state(row: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` with the row's ``forecast_pending`` when the listing asked for forecasts (pending jobs only)."""
    if FIELD in row:
        rec[FIELD] = bool(row[FIELD])
    return rec
