"""Options that replace one another, as sbatch settles them: the command line's choice replaces the script's, and
two that cannot both hold are refused where nothing says which came last (an API call's options)."""

from __future__ import annotations

from hal.controller.script_options import OPPOSITE, DirectiveError

MEMORY = ("mem", "mem-per-cpu", "mem-per-gpu")
CPUS = ("cpus-per-task", "cpus-per-gpu")


def settle(script: dict[str, str], given: dict[str, str]) -> None:
    """Drop from the script's options those the given ones replace. --mem and --mem-per-cpu both given (options,
    or the script's lines) are refused (--mem-per-cpu won, silently); one given on the command line replaces the
    script's. So do --cpus-per-task/--cpus-per-gpu, and --requeue/--no-requeue (a script carrying both keeps the
    later: parse_args drops the earlier)."""
    if any(len([k for k in MEMORY if k in where]) > 1 for where in (given, script)):
        raise DirectiveError("--mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive")
    if all(k in given for k in OPPOSITE):  # a dict has no order to tell the later (both ran as --no-requeue)
        raise DirectiveError("--requeue and --no-requeue contradict each other: give one")
    for group in (MEMORY, CPUS):
        for key in group if any(k in given for k in group) else ():
            script.pop(key, None)
    for key in given.keys() & OPPOSITE.keys():
        script.pop(OPPOSITE[key], None)
