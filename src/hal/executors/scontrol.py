"""The `scontrol` a job finds on its PATH: host list forms answered here (`show hostnames` sets MASTER_ADDR in
torchrun/NCCL scripts), job commands passed to their `hal` equivalents (show job, hold, release, requeue, update)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from hal.executors import hostlist

JOB_COMMANDS = ("hold", "release", "requeue", "update")
USAGE = (
    "scontrol (HAL): show hostnames [LIST] | show hostlist LIST | show hostlistsorted LIST | show job [ID] | "
    "hold ID | release ID | requeue ID | update JobId=ID FIELD=VALUE..."
)


class HostlistError(ValueError):
    """A host list form without its list, or a list that does not read (the message is for the user)."""


def hostlist_form(words: Sequence[str], env: Mapping[str, str]) -> list[str] | None:
    """The lines `show hostnames|hostname [LIST]` (LIST defaults to $SLURM_JOB_NODELIST, one name a line) and
    `show hostlist|hostlistsorted LIST` print, or None when the words are another form."""
    if not words or words[0].lower() not in ("hostnames", "hostname", "hostlist", "hostlistsorted"):
        return None
    kind, given = words[0].lower(), ",".join(words[1:])
    if kind.startswith("hostname"):
        given = given or env.get("SLURM_JOB_NODELIST", "")
        if not given:
            raise HostlistError("show hostnames: give a host list (SLURM_JOB_NODELIST is not set outside a job)")
    elif not given:
        raise HostlistError(f"show {kind}: give host names, e.g. n001,n002")
    try:
        names = hostlist.expand(given)
    except ValueError as exc:
        raise HostlistError(f"show {kind}: {exc}") from None
    if kind.startswith("hostname"):
        return names
    return [hostlist.compress(sorted(names)) if kind == "hostlistsorted" else hostlist.compress_ordered(names)]


def hal_argv(words: Sequence[str], env: Mapping[str, str]) -> list[str] | None:
    """The `hal` command an scontrol job command is (`show job` defaulting to this job), or None."""
    if len(words) >= 2 and words[0].lower() == "show" and words[1].lower() == "job":
        ident = words[2:] or [env.get("SLURM_JOB_ID", "")]
        return ["show", *ident] if ident[0] else None
    if words and words[0].lower() in JOB_COMMANDS:
        rest = list(words[1:])
        if words[0].lower() != "update":  # scontrol hold 12,13 and jobid=12
            rest = [i for w in rest for i in w.removeprefix("jobid=").removeprefix("JobId=").split(",") if i]
        return [words[0].lower(), *rest]
    return None


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    try:
        lines = hostlist_form(words[1:], os.environ) if words[:1] in (["show"], ["SHOW"]) else None
    except HostlistError as exc:
        print(f"scontrol: error: {exc}", file=sys.stderr)
        return 1
    if lines is not None:
        try:
            print("\n".join(lines), flush=True)
        except BrokenPipeError:  # `scontrol show hostnames | head -n 1`: the reader had what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    command = hal_argv(words, os.environ)
    if command is None:
        print(f"scontrol: error: HAL does not offer {' '.join(words[:2]) or 'that'}; {USAGE}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "hal", *command])


if __name__ == "__main__":
    sys.exit(main())
