"""A service instance: a warm process that runs many tasks of whichever session the manager binds it to.

Tasks arrive in batches (the manager keeps a few in flight per instance: prefetch) and run in arrival
order, and say which one runs through their beacon (beacon.py). Results go back in batches: an
instance flushes once it has finished as many tasks as it still holds, so the manager refills it before it
runs dry, and at once when it runs out.

Under a memory limit (RLIMIT_DATA set by the manager, and its watchdog's SIGUSR1 when the process tree holds too
much), a task that runs out of memory ends the instance: it sends the results it holds, so the manager charges the
attempt to that task alone, and exits with EXIT_MEMORY; the manager retries the task elsewhere.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import inspect
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections import deque
from typing import Any, NoReturn

from hal.htc import beacon, guard, wire
from hal.htc.app import resolve
from hal.htc.context import set_common


class MemoryLimitExceeded(BaseException):
    """Raised in the running task when the manager's watchdog asks the instance to stop (a BaseException, so a
    task's ``except Exception`` cannot swallow it)."""


def _stop_for_memory(signum: int, frame: object) -> None:
    raise MemoryLimitExceeded


def _error_payload(exc: BaseException) -> bytes:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    blob: bytes | None
    try:
        blob = pickle.dumps(exc, protocol=5)
        pickle.loads(blob)  # an exception that pickles but cannot be rebuilt travels as text only
    except Exception:
        blob = None
    return wire.dumps((blob, f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc), text))


class Service:
    """The loaded application for one session: a function, or an object built once per binding."""

    def __init__(self, target: str, common: bytes | None) -> None:
        value = pickle.loads(common) if common is not None else None
        set_common(value)
        obj = resolve(target)
        if inspect.isclass(obj):
            obj = obj()
            enter = getattr(obj, "on_session_enter", None)
            if enter is not None:
                enter(value)
        self.fn = obj


def serve(address: str, instance: int, limited: bool = False, beacon_fd: int = -1) -> None:
    """``limited``: the instance runs under a memory limit, so a MemoryError ends it (see the module doc).
    ``beacon_fd``: where to say which task runs (beacon.py)."""
    running: Any = beacon.attach(beacon_fd) if beacon_fd >= 0 else [beacon.NONE]
    try:
        ch = wire.Channel(wire.connect(address))
    except (ConnectionRefusedError, FileNotFoundError) as exc:  # started after its manager was killed
        raise BrokenPipeError(f"no session manager at {address}") from exc
    ch.send((wire.HELLO, instance, os.getpid()))
    local: deque[tuple[int, bytes]] = deque()
    out: list[tuple[int, int, bytes, float]] = []
    service: Service | None = None
    bind_error = _error_payload(RuntimeError("this service instance is bound to no session"))
    loads, dumps, clock = pickle.loads, wire.dumps, time.perf_counter
    ok, err = wire.S_OK, wire.S_ERR
    fatal: tuple[type[BaseException], ...] = (MemoryError, MemoryLimitExceeded) if limited else (MemoryLimitExceeded,)
    while True:
        if not local:
            if out:
                ch.send((wire.DONE, out))
                out = []
            running[0] = beacon.RECEIVING  # a message too big for the memory limit ends us here (losses.py)
            try:
                msg = ch.recv()
            except EOFError as exc:  # the manager says STOP before it closes; silence means it died
                raise BrokenPipeError("the session manager closed without STOP") from exc
            except fatal:
                os._exit(guard.EXIT_MEMORY)
            kind = msg[0]
            if kind == wire.RUN:
                local.extend(msg[1])
            elif kind == wire.BIND:
                try:
                    service = Service(msg[2], msg[3])
                except fatal:
                    os._exit(guard.EXIT_MEMORY)
                except Exception as exc:  # a broken app fails its tasks with the reason, not the instance
                    service, bind_error = None, _error_payload(exc)
                ch.send((wire.DONE, []))  # the common data fitted: the manager stops charging the session for it
            elif kind == wire.STOP:
                return
            continue
        tid, payload = local.popleft()
        running[0] = tid
        t0 = clock()
        if service is None:
            data, status = bind_error, err
        else:
            try:
                data = dumps(service.fn(loads(payload)))
                status = ok
            except fatal:
                _exit_for_memory(ch, out)
            except Exception as exc:
                data, status = _error_payload(exc), err
        out.append((tid, status, data, clock() - t0))
        if len(out) >= len(local):
            ch.send((wire.DONE, out))
            out = []


def _exit_for_memory(ch: wire.Channel, out: list[tuple[int, int, bytes, float]]) -> NoReturn:
    """The running task stays unanswered (the manager charges it the attempt); the finished ones go back."""
    with contextlib.suppress(BaseException):
        if out:
            ch.send((wire.DONE, out))
    os._exit(guard.EXIT_MEMORY)


def _pin(cpus: str) -> None:
    """Pinned before anything runs, so every thread and process a task starts inherits the slot's cores."""
    try:
        os.sched_setaffinity(0, guard.parse_cpus(cpus))
    except (OSError, ValueError) as exc:
        sys.exit(f"hal service instance: cannot pin to CPUs {cpus}: {exc}")


def _tight_timers() -> None:
    """Linux lets a sleeping process wake up to 50 us late by default (timer slack); a service instance serving
    millisecond tasks asks for 1 us, so a task's own sleeps and timeouts end when they should."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(29, 1000, 0, 0, 0)  # PR_SET_TIMERSLACK, in nanoseconds


def _die_with_manager(every: float = 0.25) -> None:
    """An instance notices its manager's death only when it next reads from it, after the task in hand: after a
    kill -9 of `hal server`, instances ran their tasks on for minutes, untracked, on cores the restarted server
    gave to new work (QA). Their parent is the manager; once it is gone (another process adopts us), the
    instance and everything its tasks started (its process group: it leads its own session) are killed."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="hal-manager-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="HAL HTC service instance")
    ap.add_argument("--address", required=True)
    ap.add_argument("--instance", type=int, required=True)
    ap.add_argument("--cpus", default="", help="host CPU ids to pin to, comma-separated (empty: no pinning)")
    ap.add_argument("--mem-mb", type=int, default=0, help="the memory limit the manager set (MiB; 0: none)")
    ap.add_argument("--beacon-fd", type=int, default=-1, help="shared memory to say which task runs (beacon.py)")
    args = ap.parse_args(argv)
    if args.cpus:
        _pin(args.cpus)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the manager stops instances, not the terminal's Ctrl-C
    signal.signal(guard.STOP_SIGNAL, _stop_for_memory)
    sys.path.insert(0, os.getcwd())
    _tight_timers()
    _die_with_manager()
    try:
        serve(args.address, args.instance, limited=args.mem_mb > 0, beacon_fd=args.beacon_fd)
    except MemoryLimitExceeded:  # asked to stop while not running a task: nothing to charge
        os._exit(guard.EXIT_MEMORY)
    except (BrokenPipeError, ConnectionResetError):
        # its manager was killed (a server's kill -9): one line, not a traceback per instance (QA)
        sys.exit(f"hal service instance {args.instance}: its session manager went away; exiting")


if __name__ == "__main__":
    main()
