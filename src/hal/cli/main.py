"""The `hal` command: one Typer app; each command family lives in its own module, imported only when used.

`hal submit` runs in scripts and loops, so a call imports just the module of its own command (not numpy, the
engine or the server); `hal --help` imports them all to list them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

# name -> (module, attribute, "command" | "group"); the order is the order of `hal --help`.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "server": ("hal.cli.server", "server", "command"),
    "submit": ("hal.cli.submit", "submit", "command"),
    "queue": ("hal.cli.queue", "queue", "command"),
    "nodes": ("hal.cli.nodes", "nodes", "command"),
    "drain": ("hal.cli.drain", "drain", "command"),
    "resume": ("hal.cli.drain", "resume", "command"),
    "show": ("hal.cli.show", "show", "command"),
    "cancel": ("hal.cli.cancel", "cancel", "command"),
    "hold": ("hal.cli.hold", "hold", "command"),
    "release": ("hal.cli.hold", "release", "command"),
    "requeue": ("hal.cli.hold", "requeue", "command"),
    "update": ("hal.cli.update", "update", "command"),
    "history": ("hal.cli.history", "history", "command"),
    "prio": ("hal.cli.fairshare", "prio", "command"),
    "shares": ("hal.cli.fairshare", "shares", "command"),
    "wait": ("hal.cli.wait", "wait", "command"),
    "run": ("hal.cli.run", "run", "command"),
    "explain": ("hal.cli.explain", "explain", "command"),
    "token": ("hal.cli.token", "app", "group"),
    "sessions": ("hal.cli.htc", "sessions", "command"),
    "app": ("hal.cli.htc", "app_cmd", "group"),
    "session-manager": ("hal.cli.htc", "session_manager", "command"),
    "simulate": ("hal.cli.simulate", "simulate", "command"),
    "compare": ("hal.cli.compare", "compare", "command"),
    "demo": ("hal.cli.demo", "demo", "command"),
    "predict-eval": ("hal.cli.predict", "predict_eval", "command"),
    "tune": ("hal.cli.tune", "tune", "command"),
    "dataset": ("hal.cli.dataset", "app", "group"),
    "cluster": ("hal.cli.tools", "cluster_app", "group"),
    "trace": ("hal.cli.tools", "trace_app", "group"),
}


# Slurm's command names, for the fingers that type them: hidden from `hal --help`, the same commands.
ALIASES = {"sbatch": "submit", "squeue": "queue", "scancel": "cancel", "sacct": "history", "sinfo": "nodes",
           "sprio": "prio", "sshare": "shares", "srun": "run"}  # fmt: skip


def build(names: list[str] | None = None) -> typer.Typer:
    """A Typer app with the named commands (all of them when names is None)."""
    app = typer.Typer(
        name="hal",
        help="HAL, the Hybrid Adaptive Learning Scheduler.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)  # keeps `hal NAME ...` a group even when only one command is loaded
    for name in names if names is not None else [*COMMANDS, *ALIASES]:
        module_name, attr, kind = COMMANDS[ALIASES.get(name, name)]
        module = importlib.import_module(module_name)
        target = getattr(module, attr)
        if kind == "group":
            app.add_typer(target, name=name)
        else:
            settings: dict[str, Any] = getattr(module, "CONTEXT", {})  # e.g. what follows a script is its own
            cls = getattr(module, "COMMAND_CLASS", None)  # e.g. sbatch's --exclusive[=VALUE], beyond click's forms
            app.command(name, context_settings=settings or None, cls=cls, hidden=name in ALIASES)(target)
    return app


def _root() -> None:
    """HAL, the Hybrid Adaptive Learning Scheduler."""


def main() -> None:
    """Entry point: build only the command being called, when it can be told from the arguments."""
    args = sys.argv[1:]
    first = args[0] if args else None
    build([first] if first in COMMANDS or first in ALIASES else None)()


def __getattr__(name: str) -> typer.Typer:
    """`from hal.cli.main import app` gives the whole app (tests drive it in-process)."""
    if name == "app":
        return build()
    raise AttributeError(name)
