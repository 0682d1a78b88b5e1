"""sbatch's host lists read from a file: a -w/--nodelist or -x/--exclude value holding a '/' names a file of host
names (QA: `-w ./hosts` was taken for a node named './hosts'). Read here, by the submitting user's CLI."""

from __future__ import annotations

from pathlib import Path

from hal.cli.common import fail


def host_file(value: str | None) -> str | None:
    """sbatch reads -w/-x as a file of host names when it holds a '/' (QA: `-w ./hosts` named a node './hosts')."""
    if value is None or "/" not in value:
        return value
    try:
        return ",".join(Path(value).read_text().split())
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read the host file {value}: {getattr(exc, 'strerror', None) or exc}") from None
