"""Shared CLI plumbing: consoles, progress bars and turning errors into clear messages."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

PIPE_WIDTH = 1_000_000  # rows are as wide as their cells (tables do not expand), however wide that is
# Users' text (job names, reasons, comments) is printed as it is: no markup ("x[/]" as a job name made every
# listing that showed it crash) and no emoji codes (":100:" became an emoji); styles are given as styles.


class _TrimmedStdout:
    """stdout without the blanks Rich pads a table's last column with: piped lines end at their text, as sinfo's."""

    def write(self, text: str) -> int:
        return sys.stdout.write(_PADDING.sub("\n", text))

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()


_PADDING = re.compile(r"[ \t]+\n")
out = Console(markup=False, emoji=False)
if not out.is_terminal:  # a pipe has no width: each table row whole on its line (at 160, wide rows folded)
    out = Console(width=PIPE_WIDTH, markup=False, emoji=False, file=_TrimmedStdout())  # type: ignore[arg-type]
err = Console(stderr=True, soft_wrap=True, emoji=False)  # messages whole on one line in logs and pipes (not cut at 80)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")  # messages quote input: "[[nodes]]" is not markup
    return typer.Exit(code)


def writable_files(
    *paths: Path | None, inputs: tuple[Path | None, ...] = (), regular: tuple[Path | None, ...] = ()
) -> None:
    """Refuse output files that cannot be written before a run that may take minutes, not after it: each is
    opened for appending (and removed again if it did not exist), which os.access cannot stand in for (root,
    /proc and /sys say yes and then refuse); a FIFO is never opened (its type is read first). An output that is
    an input, or given twice, is refused too. Those also in ``regular`` (a model file, saved by renaming a new file
    over it) must be regular files or nothing yet: the save would put a file in place of a device or a FIFO."""
    given = [p.resolve() for p in paths if p is not None]
    if len(set(given)) != len(given):
        raise fail(f"two outputs are the same file: {sorted({str(p) for p in given if given.count(p) > 1})}")
    for used in (p.resolve() for p in inputs if p is not None):
        if used in given:
            raise fail(f"cannot write {used}: it is an input of this command")
    for path in paths:
        if path is None:
            continue
        mode = _mode(path)
        if mode is not None and stat.S_ISDIR(mode):
            raise fail(f"cannot write {path}: it is a folder")
        if not path.parent.is_dir():
            raise fail(f"cannot write {path}: its folder {path.parent} does not exist")
        if mode is not None and not stat.S_ISREG(mode) and path in regular:
            kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise fail(f"cannot write {path}: it is {kind}, not a regular file (left as it is)")
        if mode is not None and stat.S_ISFIFO(mode):
            # Never opened here: with no reader the open blocked for good, and with one, closing it again ended
            # the reader's input before the run wrote a line. It is written as it is, as /dev/stdout into a pipe.
            if not os.access(path, os.W_OK):
                raise fail(f"cannot write {path}: permission denied")
            continue
        existed = mode is not None
        try:
            with path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise fail(f"cannot write {path}: {exc.strerror or exc}") from None
        if not existed:  # through a dangling symlink the open made the file it points to: that goes, the link stays
            Path(os.path.realpath(path)).unlink(missing_ok=True)


def _mode(path: Path) -> int | None:
    """``path``'s file type and mode, through a symlink (None when nothing is there): checked before opening."""
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # the latter: its folder is a file, said as a missing folder
        return None
    except OSError as exc:  # a symlink loop, a folder that cannot be searched
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from None


def new_file(path: Path | None, force: bool) -> None:
    """An output a command makes from nothing (`hal cluster generate -o`, `hal trace generate`): an existing file
    is refused unless --force, as it may be one written by hand (QA: a cluster file was lost without a word);
    then checked as writable_files checks every output. A device or pipe (/dev/stdout) is written as it is."""
    if path is not None and path.is_file() and not force:
        raise fail(f"cannot write {path}: the file exists (--force overwrites it)")
    writable_files(path)


def writable_folder(path: Path | None) -> None:
    """A folder for plots: created now, and a file tried in it, so a bad path fails before the run."""
    if path is None:
        return
    if path.exists() and not path.is_dir():
        raise fail(f"cannot write plots into {path}: it is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".hal-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise fail(f"cannot write plots into {path}: {exc.strerror or exc}") from None


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
    if len(problems) > 5:
        err.print(f"  ... and {len(problems) - 5} more")


def note_workload(workload: Any) -> None:
    """What the replay reads differently from the file (e.g. a trace without a MaxProcs/MaxNodes header runs
    on a machine as large as its largest job): said once, before the run."""
    for note in getattr(workload, "notes", ()):
        err.print(f"[yellow]note:[/] {escape(note)}")
    if getattr(workload, "sized_by_largest_job", False):
        err.print(
            f"[yellow]note:[/] the trace has no MaxProcs/MaxNodes header: the machine is sized to its largest job "
            f"({workload.capacity:,} processors); give --procs (or --cluster) for the real size"
        )


PLAIN_ROWS = 300  # a listing longer than this prints plain columns: rich measured every cell (4,000 rows: 5 s)


def plain_columns(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[str] = ()) -> str:
    """Rows under their headers in columns two spaces apart, as squeue and sprio print them (headers in
    ``right`` right-aligned); empty ``headers`` prints no header line."""
    cells = [list(headers), *rows] if headers else [list(r) for r in rows]
    if not cells:
        return ""
    widths = [max(cell_len(str(r[i])) for r in cells) for i in range(len(cells[0]))]  # CJK: 2 cells (QA)
    keys = list(headers) if headers else [""] * len(widths)
    lines = []
    for r in cells:
        parts = [
            " " * (w - cell_len(str(v))) + str(v) if keys[i] in right else str(v) + " " * (w - cell_len(str(v)))
            for i, (v, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def database_reason(exc: BaseException, secret: str) -> str:
    """A database error's first line, its password masked (one of three characters or fewer is left: masking it
    would garble the words around it)."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return reason.replace(secret, "***") if len(secret) > 3 else reason
