"""`hal queue --start` and `hal show` on a real server while a start forecast is still being made: they say so
(a note under the table, `forecast_pending` in --json, a hint in hal show) instead of an N/A that reads as "no
forecast possible", and stop saying it once the forecast is in. The server's forecasts are held back by a gate
file (a sitecustomize on its PYTHONPATH wraps StartBoard._forecast), so "still being made" does not hang on timing."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from tests.integration.livekit import LiveServer, concurrently

WHOLE = "#!/bin/sh\n#SBATCH --nodes=4 --ntasks-per-node=2 --time={minutes}\nsleep {seconds}\n"
GATE = """
import os, time
from pathlib import Path

_gate = os.environ.get("HALTEST_FORECAST_GATE")
if _gate:
    # Held before the forecast begins, not inside Forecaster.starts: the board times a forecast around starts(),
    # so a gated one looked ~10 s slow and the next forecast (the one that covers the new job) waited that long.
    from hal.controller import startboard

    _real = startboard.StartBoard._forecast

    def _gated(self, *args, **kwargs):
        deadline = time.monotonic() + 60.0
        while Path(_gate).exists() and time.monotonic() < deadline and not self._halt.is_set():
            time.sleep(0.05)
        return _real(self, *args, **kwargs)

    startboard.StartBoard._forecast = _gated
"""
NOTE = "the start forecast for 1 job is still being computed; run again in a few seconds"


class GatedServer(LiveServer):
    """A server whose start forecasts wait while ``gate`` exists (the CLI processes run as usual)."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.site = tmp / "site"
        self.site.mkdir()
        (self.site / "sitecustomize.py").write_text(GATE)
        self.gate = tmp / "forecast-gate"
        self.serving = False

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        if self.serving:
            path = os.pathsep.join(p for p in (str(self.site), env.get("PYTHONPATH", "")) if p)
            env = {**env, "PYTHONPATH": path, "HALTEST_FORECAST_GATE": str(self.gate)}
        return env

    def start(self, timeout: float = 90.0) -> None:
        self.serving = True
        try:
            super().start(timeout)
        finally:
            self.serving = False


def test_queue_and_show_say_a_start_forecast_is_still_being_computed(tmp_path: Path) -> None:
    live = GatedServer(tmp_path)
    live.gate.touch()
    live.start()
    try:
        with live.client() as sdk:
            first = str(sdk.submit(WHOLE.format(minutes=5, seconds=120))["job_id"])
            deadline = time.monotonic() + 30.0  # its record without a start forecast: that one waits 2 s, held
            while (rec := sdk.get(first))["state"] != "RUNNING":
                assert time.monotonic() < deadline, rec
                time.sleep(0.1)
            second = sdk.submit(WHOLE.format(minutes=2, seconds=1))["job_id"]

            said = concurrently(  # each listing waits up to the server's 2 s for the held forecast: side by side
                lambda: live.cli("queue", "--start", check=True),
                lambda: live.cli("queue", "--start", "--json", check=True),
                lambda: live.cli("show", str(second), check=True),
                lambda: live.cli("queue", check=True),
            )
            table = said[0]  # the note on stderr, as the summary: stdout is squeue's table alone
            assert NOTE in table.stderr and NOTE not in table.stdout and str(second) in table.stdout, table
            data = json.loads(said[1].stdout)
            pending = next(j for j in data["jobs"] if j["job_id"] == second)
            assert pending["forecast_pending"] is True and pending["predicted_start_p90"] is None
            shown = said[2].stdout
            assert "still being computed" in shown, shown  # StartTime= the planner's start, if it has one
            assert re.search(r"Priority=\d+ Nice=0", shown), shown  # scontrol's Priority=, from hal prio's
            plain = said[3].stdout + said[3].stderr
            assert "still being computed" not in plain  # no forecasts asked for, none awaited

            live.gate.unlink()
            deadline = time.monotonic() + 30.0
            while next(j for j in sdk.list(start=True) if j["job_id"] == second)["forecast_pending"]:
                assert time.monotonic() < deadline, "the forecast never arrived"
                time.sleep(0.2)
            listed, showed = concurrently(
                lambda: live.cli("queue", "--start", check=True),
                lambda: live.cli("show", str(second), check=True),
            )
            after = listed.stdout + listed.stderr
            assert "still being computed" not in after and "START_P90" in after
            out = showed.stdout
            assert "still being computed" not in out and "planned start" in out and "at 90%" in out
            sdk.cancel(second)
            sdk.cancel(first)
    finally:
        live.stop()
