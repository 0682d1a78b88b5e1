"""Shared CLI plumbing: consoles, progress bars and turning errors into clear messages."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

out = Console()
if not out.is_terminal:
    out = Console(width=160)  # piped output keeps whole tables instead of folding at 80 columns
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")  # messages quote input: "[[nodes]]" is not markup
    return typer.Exit(code)


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr; yields a callback taking the number of jobs handled so far."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)

        def update(done: int) -> None:
            bar.update(task, completed=done)

        yield update


def report_problems(problems: list[object], what: str = "skipped") -> None:
    if not problems:
        return
    err.print(f"[yellow]{len(problems)} job(s) {what}[/]; first ones:")
    for p in problems[:5]:
        err.print(f"  {escape(str(p))}")
