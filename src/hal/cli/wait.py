"""`hal wait JOB`: block until jobs end; the exit status says whether they all completed."""

from __future__ import annotations

from typing import Annotated

import typer

from hal.cli.common import out
from hal.cli.live import JsonOpt, client, emit_json


def wait(
    jobs: Annotated[list[str], typer.Argument(help="job ids (an array id waits for every task)")],
    timeout: Annotated[float | None, typer.Option(help="give up after this many seconds (exit 2)")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Wait for jobs to end; exits 0 when all COMPLETED, 1 otherwise, 2 on timeout."""
    finals = {}
    with client() as c:
        for job in jobs:
            try:
                rec = c.wait(job, timeout=timeout, detail=False)  # only the states are printed
            except TimeoutError as exc:
                out.print(f"hal wait: {exc}", highlight=False)
                raise typer.Exit(2) from None
            finals[job] = rec["state"]
    if json_out:
        emit_json({"states": finals})
    else:
        for job, state in finals.items():
            out.print(f"{job} {state}", highlight=False)
    if any(s != "COMPLETED" for s in finals.values()):
        raise typer.Exit(1)
