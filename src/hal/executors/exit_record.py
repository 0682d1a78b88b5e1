"""A job's exit record (the supervisor's record.json, or one the executor writes for a job it lost) and the ENDED
event it becomes for the controller."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hal.executors.api import ExecEvent, ExecEventKind
from hal.executors.supervisor_beat import lost_at
from hal.model.job import JobState


def exit_record(job_id: int, state: str, reason: str, end: float | None = None) -> dict[str, Any]:
    """A record of a job that never wrote its own: no exit code, no usage, the reason; it ended at ``end`` (now)."""
    return {
        "job_id": job_id,
        "state": state,
        "exit_code": None,
        "signal": None,
        "start_time": None,
        "end_time": time.time() if end is None else end,
        "cpu_seconds": 0.0,
        "max_rss_mb": 0.0,
        "reason": reason,
    }


def lost_record(job_id: int, why: str, job_dir: Path) -> dict[str, Any]:
    """NODE_FAIL for a job whose supervisor is gone, ended one beat after its last sign of life at the latest."""
    return exit_record(job_id, "NODE_FAIL", f"node failure: {why}", lost_at(job_dir))


def ended_event(record: dict[str, Any]) -> ExecEvent:
    return ExecEvent(
        job_id=int(record["job_id"]),
        kind=ExecEventKind.ENDED,
        time=float(record["end_time"]),
        state=JobState[record["state"]],
        exit_code=record["exit_code"],
        signal=record["signal"],
        cpu_seconds=float(record["cpu_seconds"]),
        max_rss_mb=float(record["max_rss_mb"]),
        reason=record["reason"],
        start_time=record["start_time"],
        drain_node=str(record.get("drain") or ""),
    )


def status_text(code: int) -> str:
    """A Popen return code in words."""
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"
