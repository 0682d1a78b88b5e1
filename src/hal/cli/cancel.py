"""`hal cancel`: scancel for HAL; a user may cancel only their own jobs, admins any."""

from __future__ import annotations

from typing import Annotated

import typer

from hal.cli.common import out
from hal.cli.live import JsonOpt, client, emit_json


def cancel(
    jobs: Annotated[list[str], typer.Argument(help="job ids: 12, an array 12, or one task 12_3")],
    json_out: bool = JsonOpt,
) -> None:
    """Cancel pending jobs at once and running ones with SIGTERM, then SIGKILL after the grace period."""
    done: dict[str, list[int]] = {}
    with client() as c:
        for job in jobs:
            done[job] = c.cancel(job)
    if json_out:
        emit_json({"cancelled": done})
        return
    for job, ids in done.items():
        if not ids:
            out.print(f"hal cancel: job {job} has already finished", highlight=False)
