"""Applications as Symphony users register them: what a service instance runs, its resources and instance limits."""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import logging
import os
import re
import shlex
import string
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hal.controller.private import write_private

if TYPE_CHECKING:  # service instances import this module; keep numpy out of their start-up
    from hal.model.resources import Resources

CMD_PREFIX = "cmd:"
POLICIES = ("proportional", "priority")
MAX_INT = 2**31 - 1  # as the controller bounds a job's counts (--nodes, --ntasks)
MINIMA = {"cpus": 1, "mem_mb": 0, "gpus": 0, "min_instances": 0, "max_instances": 1, "max_retries": 0}
log = logging.getLogger("hal.htc")


@dataclass(frozen=True, slots=True)
class Application:
    """``target`` is ``package.module:callable`` or ``cmd:<template>`` with ``{input}`` in its arguments.

    A callable target is a function (called once per task with the input) or a class, instantiated once per
    service instance; it may define ``on_session_enter(common)`` to receive the session's common data.
    """

    name: str
    target: str
    cpus: int = 1
    mem_mb: int = 0
    gpus: int = 0
    min_instances: int = 0
    max_instances: int = 64
    max_retries: int = 3  # attempts after the first when a service instance dies mid-task
    policy: str = "proportional"
    env: dict[str, str] = field(default_factory=dict)
    task_timeout: float | None = None  # seconds a task may run; beyond, its instance is killed and it is retried

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or len(self.name) > 256 or not self.name.isprintable():
            raise ValueError(f"application name {self.name!r} must be 1-256 printable characters, no '/'")
        if not self.target.startswith(CMD_PREFIX) and ":" not in self.target:
            raise ValueError(f"target {self.target!r} must be 'module:callable' or 'cmd:<template>'")
        for key, low in MINIMA.items():
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_INT:
                # cpus=0 or mem_mb<0 crashed the session manager's loop when a session first asked for slots (QA);
                # 10**20 met the engine's int64 arrays as an OverflowError (QA)
                raise ValueError(f"{key} must be an integer from {low} to {MAX_INT:,}, got {value!r}")
        if self.max_instances < self.min_instances:
            raise ValueError(f"need min_instances <= max_instances, got {self.min_instances} > {self.max_instances}")
        if not isinstance(self.env, dict) or not all(isinstance(v, str) for v in (*self.env, *self.env.values())):
            raise ValueError(f"env must map names to strings, got {self.env!r}")
        if bad := [k for k in self.env if not k or "=" in k or "\0" in k or "\0" in self.env[k]]:  # QA: taken, then
            raise ValueError(f"env name {bad[0]!r} cannot be set in a process (empty, '=' or NUL)")  # every task failed
        if self.target.startswith(CMD_PREFIX) and (why := template_error(self.target[len(CMD_PREFIX) :])):
            raise ValueError(why)  # every task would fail with Python's own error (QA: 'cmd:echo {}' was taken)
        if self.policy not in POLICIES:
            raise ValueError(f"unknown sharing policy {self.policy!r}; choose one of {list(POLICIES)}")
        limit = self.task_timeout
        if limit is not None and (not isinstance(limit, int | float) or isinstance(limit, bool) or not limit > 0):
            raise ValueError(f"task_timeout must be a number of seconds > 0 (or None for no limit), got {limit!r}")

    @property
    def per_instance(self) -> Resources:
        from hal.model.resources import Resources

        return Resources(cpus=self.cpus, mem_mb=self.mem_mb, gpus=self.gpus)

    def resources_text(self) -> str:
        """What each service instance gets and how many there may be, in words (CLI output)."""
        mem = f"{self.mem_mb} MiB" if self.mem_mb else "no memory limit"
        gpus = f", {self.gpus} GPU{'s' if self.gpus != 1 else ''}" if self.gpus else ""
        each = f"{self.cpus} CPU{'s' if self.cpus != 1 else ''}{gpus}, {mem} per instance"
        limit = f"; task timeout {self.task_timeout:g} s" if self.task_timeout is not None else ""
        return f"{each}; {self.min_instances} to {self.max_instances} instances; {self.max_retries} retries{limit}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Application:
        return Application(**data)


class AppRegistry:
    """Registered applications, kept in a JSON file so a restarted session manager still knows them.

    A saved definition that is no longer valid (written before its values were checked) is logged and left out,
    not fatal: ``invalid`` says why, sessions on it are refused with that reason, and it stays in the file until
    registered again with valid values or removed."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.apps: dict[str, Application] = {}
        self.invalid: dict[str, tuple[dict[str, Any], str]] = {}  # name -> (saved definition, why refused)
        if path is None or not path.exists():
            return
        try:
            items = json.loads(path.read_text())
        except (OSError, ValueError) as exc:  # not rewritten: the admin's definitions stay for repair
            raise OSError(f"cannot read the registered applications {path}: {exc}") from exc
        for item in items if isinstance(items, list) else [items]:
            try:
                app = Application.from_dict(item)
            except (TypeError, ValueError, AttributeError) as exc:
                name = str(item.get("name")) if isinstance(item, dict) else repr(item)
                self.invalid[name] = (item, str(exc))
                log.error("application %s saved in %s is refused and not served: %s", name, path, exc)
                continue
            self.apps[app.name] = app

    def register(self, app: Application) -> None:
        self.apps[app.name] = app
        self.invalid.pop(app.name, None)
        self._save()

    def remove(self, name: str) -> None:
        self.apps.pop(name, None)
        self.invalid.pop(name, None)
        self._save()

    def get(self, name: str) -> Application:
        if name in self.invalid:
            why = self.invalid[name][1]
            raise KeyError(f"application {name!r} has an invalid saved definition ({why}): register it again")
        try:
            return self.apps[name]
        except KeyError:
            raise KeyError(f"unknown application {name!r}; registered: {sorted(self.apps)}") from None

    def _save(self) -> None:
        if self.path is None:
            return
        items = [a.to_dict() for a in self.apps.values()] + [item for item, _ in self.invalid.values()]
        write_private(self.path, json.dumps(items, indent=1))  # 0600: state


class CommandFailed(RuntimeError):
    """A command-template task exited non-zero."""


def template_error(template: str) -> str | None:
    """Why a command template cannot run a task: its words must split as a shell would, and name no field but
    ``{input}`` (``{{`` and ``}}`` for a brace itself); None when it can."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        return f"command template {template!r} cannot be split into arguments: {exc}"
    if not words:
        return "the command template is empty"
    for word in words:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(word) if f is not None]
        except ValueError as exc:
            return f"command template word {word!r}: {exc} (write {{{{ and }}}} for a brace itself)"
        bad = [f for f in fields if re.split(r"[.\[!:]", f, maxsplit=1)[0] != "input"]
        if bad:
            return f"command template word {word!r} names {{{bad[0]}}}: only {{input}} is filled in"
    return None


def command_runner(template: str) -> Callable[[Any], str]:
    """Each argument of the template is formatted on its own, so an input can never add arguments."""
    words = shlex.split(template)

    def run(x: Any) -> str:
        argv = [w.format(input=x) for w in words]
        # output that is not UTF-8 (QA: head -c N /dev/urandom failed the task) keeps its bytes as surrogates:
        # result.encode("utf-8", "surrogateescape") gives them back
        proc = subprocess.run(argv, capture_output=True, text=True, errors="surrogateescape", check=False)
        if proc.returncode != 0:
            raise CommandFailed(f"{argv[0]} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        return proc.stdout

    return run


def unimportable(app: Application) -> str | None:
    """Why the service instances could not import the target's top-level module, found as they look for it
    (their working directory is the manager's, then PYTHONPATH and the interpreter's path); None when found or
    a command template. Registration goes on: the module may be installed later. Nothing is imported here."""
    if app.target.startswith(CMD_PREFIX):
        return None
    top = app.target.partition(":")[0].split(".")[0]
    extra = app.env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    paths = [os.getcwd(), *[p for p in extra.split(os.pathsep) if p], *sys.path]
    if top in sys.builtin_module_names or importlib.machinery.PathFinder.find_spec(top, paths) is not None:
        return None
    return (
        f"module {top!r} of {app.target!r} is not importable by the session manager's instances (working "
        f"directory {os.getcwd()}, PYTHONPATH {extra or 'unset'}): its tasks will fail until it is"
    )


def resolve(target: str) -> Any:
    """The object a target names (a callable or a class), or a runner for a command template."""
    if target.startswith(CMD_PREFIX):
        return command_runner(target[len(CMD_PREFIX) :])
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def check_slots(slots: object) -> None:
    """A session's slots: None (the application's maximum) or a whole number of at least 1."""
    if slots is not None and (type(slots) is not int or slots < 1):
        raise ValueError(
            f"slots must be a whole number of at least 1 (or None for the application's maximum), not {slots!r}"
        )


MAX_PRIORITY = 10_000  # Symphony's session priorities run from 1 to 10,000; 0 here is below every other


def check_priority(prio: object, what: str = "priority") -> None:
    """A session's or a task's priority: a whole number from 0 to MAX_PRIORITY (QA: a task's "abc" or None broke
    its session's queue with a TypeError, and a NaN session priority failed the application's tasks)."""
    if type(prio) is not int or not 0 <= prio <= MAX_PRIORITY:
        raise ValueError(f"{what} must be a whole number from 0 to {MAX_PRIORITY:,}, not {prio!r}")
