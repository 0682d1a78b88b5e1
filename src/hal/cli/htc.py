"""`hal sessions`, `hal app register|list` and `hal session-manager`: HTC sessions from the command line."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from hal.cli.common import err, fail, out

Address = Annotated[
    str | None, typer.Option(help="session manager socket (default $HAL_HTC_ADDRESS or $HAL_HOME/htc.sock)")
]

app_cmd = typer.Typer(help="HTC applications (Symphony's application profiles): register and list.")


def _client(address: str | None) -> Any:
    """Beside `hal server` (a token reaches it), its manager with the ticket that says who you are: it lists your
    sessions only (an administrator's: all); else the standalone manager's socket, by Unix user."""
    from hal.client import Client, HalError
    from hal.htc.client import HtcClient

    if address is None:
        try:
            with Client() as c:
                return c._htc()
        except HalError as exc:
            if exc.status in (401, 403):  # QA: a revoked token was shown an empty list, as if its sessions were gone
                raise fail(f"not authorized: {exc}") from None
        except (OSError, ValueError, KeyError):
            pass  # no server here: a standalone manager
    return HtcClient(address)


def _call(fn: Any) -> Any:
    try:
        return fn()
    except (OSError, EOFError) as exc:
        said = str(exc)  # the client's own message may carry the hint already (no manager at the socket)
        hint = "" if "hal session-manager" in said else " (start one with `hal server` or `hal session-manager`)"
        raise fail(f"cannot reach the session manager: {said}{hint}") from None
    except (RuntimeError, ValueError, KeyError) as exc:
        raise fail(str(exc)) from None


def sessions(
    address: Address = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="include ended sessions")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """HTC sessions with their counters: slots, submitted, done, failed, cancelled, running (executing, one per busy
    instance), prefetched (handed to an instance, waiting there), queued, tasks/s. An ended session's counters add
    up: submitted = done + failed + cancelled."""
    rows = _call(lambda: _client(address).sessions())
    if not all_:
        rows = [r for r in rows if r["state"] in ("open", "detached")]
    if as_json:
        out.print_json(json.dumps({"sessions": rows}))
        return
    table = Table(box=None, header_style="bold")
    cols = ("SESSION", "NAME", "APP", "USER", "PRIO", "STATE", "SLOTS", "SUBMITTED", "DONE", "FAILED", "CANCELLED")
    for col in (*cols, "RUNNING", "PREFETCHED", "QUEUED", "TASKS/S", "AGE"):
        table.add_column(col, justify="right" if col not in ("NAME", "APP", "USER", "STATE") else "left")
    now = time.time()
    for r in rows:
        end = r["ended"] or now
        table.add_row(
            str(r["session"]), r["name"] or "-", r["app"], r["user"], str(r["priority"]), r["state"],
            str(r["slots"]), str(r["submitted"]), str(r["done"]), str(r["failed"]), str(r.get("cancelled", 0)),
            str(r["running"]),
            str(r.get("prefetched", 0)), str(r["queued"]), f"{r['tasks_per_s']:.1f}", f"{end - r['created']:.0f}s",
        )  # fmt: skip
    out.print(table)


@app_cmd.command("register")
def register(
    name: Annotated[str, typer.Argument(help="application name, used by client.session(NAME)")],
    target: Annotated[str, typer.Argument(help="module:callable (function or class) or 'cmd:prog --x {input}'")],
    cpus: Annotated[int, typer.Option(help="CPUs per service instance")] = 1,
    mem_mb: Annotated[int, typer.Option(help="memory per service instance (MB)")] = 0,
    gpus: Annotated[int, typer.Option(help="GPUs per service instance")] = 0,
    min_instances: Annotated[int, typer.Option(help="instances kept warm while the application has sessions")] = 0,
    max_instances: Annotated[int, typer.Option(help="most instances the application may hold")] = 64,
    max_retries: Annotated[int, typer.Option(help="retries of a task whose instance died")] = 3,
    policy: Annotated[str, typer.Option(help="sharing among sessions: proportional or priority")] = "proportional",
    task_timeout: Annotated[
        float | None, typer.Option(help="seconds a task may run; past it its instance is killed, the task retried")
    ] = None,
    env: Annotated[list[str] | None, typer.Option(help="KEY=VALUE for the service instances; repeatable")] = None,
    address: Address = None,
) -> None:
    """Register (or replace) an application. Refused when no instance could ever run: sizes below one CPU or
    memory below 0, or an instance bigger than any node of the machine as it is now (changing it takes a restart)."""
    from hal.htc.app import Application

    pairs = dict(item.split("=", 1) for item in env or [] if "=" in item)
    try:
        spec = Application(
            name, target, cpus, mem_mb, gpus, min_instances, max_instances, max_retries, policy, pairs, task_timeout
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    warning = _call(lambda: _client(address).register(spec))
    out.print(f"registered application {name} -> {target}: {spec.resources_text()}", markup=False)
    if warning:
        err.print(f"warning: {warning}", markup=False, highlight=False)


@app_cmd.command("list")
def list_apps(
    address: Address = None, as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
) -> None:
    """Registered applications."""
    apps = _call(lambda: _client(address).apps())
    if as_json:
        out.print_json(json.dumps({"apps": [a.to_dict() for a in apps]}))
        return
    table = Table(box=None, header_style="bold")
    for col in ("APP", "TARGET", "CPUS", "MEM_MB", "GPUS", "MIN", "MAX", "RETRIES", "TIMEOUT", "POLICY"):
        table.add_column(col)
    for a in apps:
        table.add_row(
            a.name, a.target, str(a.cpus), str(a.mem_mb), str(a.gpus), str(a.min_instances), str(a.max_instances),
            str(a.max_retries), "-" if a.task_timeout is None else f"{a.task_timeout:g}s", a.policy,
        )  # fmt: skip
    out.print(table)


def session_manager(
    address: Address = None,
    cpus: Annotated[int, typer.Option(help="CPUs to hand out as slots (default: all of this machine)")] = 0,
    mem_mb: Annotated[int, typer.Option(help="memory to hand out as slots, MiB (default: not accounted)")] = 0,
    state_dir: Annotated[str | None, typer.Option(help="where registered applications are kept")] = None,
) -> None:
    """Run a standalone session manager with its own engine (`hal server` runs one beside the controller)."""
    from hal.htc.standalone import main

    argv = (["--address", address] if address else []) + (["--cpus", str(cpus)] if cpus else [])
    argv += ["--mem-mb", str(mem_mb)] if mem_mb else []
    main(argv + (["--state-dir", state_dir] if state_dir else []))
