"""The `scontrol` a job finds on its PATH: host list forms answered here (`show hostnames` sets MASTER_ADDR in
torchrun/NCCL scripts), job commands passed to their `hal` equivalents (show job, hold, release, requeue, update)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from hal.executors import hostlist

JOB_COMMANDS = ("hold", "release", "requeue", "update")
USAGE = (
    "scontrol (HAL) [-o] [--version]: show hostnames [LIST] | show hostlist LIST | show hostlistsorted LIST | "
    "show job [ID] | show jobid=ID | hold ID | release ID | requeue ID | update JobId=ID FIELD=VALUE..."
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
    """The `hal` command an scontrol job command is (`show job`, `show jobid=ID`, `show jobid ID`; defaulting to
    this job), or None."""
    if len(words) >= 2 and words[0].lower() == "show" and words[1].lower().partition("=")[0] in ("job", "jobid"):
        _, eq, given = words[1].partition("=")
        rest = [given, *words[2:]] if eq else list(words[2:])
        ident = [_unkeyed(w) for w in rest] or [env.get("SLURM_JOB_ID", "")]
        return ["show", *ident] if ident[0] else None
    if words and words[0].lower() in JOB_COMMANDS:
        rest = list(words[1:])
        if words[0].lower() != "update":  # scontrol hold 12,13 and jobid=12
            rest = [i for w in rest for i in w.removeprefix("jobid=").removeprefix("JobId=").split(",") if i]
        return [words[0].lower(), *rest]
    return None


def _unkeyed(word: str) -> str:
    """``jobid=12`` (any case) as ``12``."""
    key, eq, value = word.partition("=")
    return value if eq and key.lower() == "jobid" else word


ONE_LINER, DETAILS, VERSION = ("-o", "--oneliner"), ("-d", "--details"), ("-V", "--version")


def one_line(text: str) -> str:
    """`hal show`'s records (Key=Value lines, a blank line after each job) one line a job, as `scontrol -o`."""
    blocks = [" ".join(line.strip() for line in block.splitlines()) for block in text.split("\n\n")]
    return "".join(f"{b}\n" for b in blocks if b.strip())


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    flags = {w for w in words if w in ONE_LINER + DETAILS + VERSION}  # scontrol takes them anywhere
    words = [w for w in words if w not in flags]  # -d: every detail HAL has is shown already
    if flags & set(VERSION):
        from hal import __version__

        print(f"HAL {__version__} (scontrol for HAL jobs)")
        return 0
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
    if not flags & set(ONE_LINER) or command[0] != "show":
        os.execv(sys.executable, [sys.executable, "-m", "hal", *command])
    shown = subprocess.run([sys.executable, "-m", "hal", *command], stdout=subprocess.PIPE, text=True)
    print(one_line(shown.stdout), end="", flush=True)
    return shown.returncode


if __name__ == "__main__":
    sys.exit(main())
