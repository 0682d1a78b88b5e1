"""A service instance: a warm process that runs many tasks of whichever session the manager binds it to.

Tasks arrive in batches (the manager keeps a few in flight per instance: prefetch) and run in arrival
order, so the oldest unanswered task of an instance is the one running. Results go back in batches: an
instance flushes once it has finished as many tasks as it still holds, so the manager refills it before it
runs dry, and at once when it runs out.
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
import time
import traceback
from collections import deque

from hal.htc import wire
from hal.htc.app import resolve
from hal.htc.context import set_common


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


def serve(address: str, instance: int) -> None:
    ch = wire.Channel(wire.connect(address))
    ch.send((wire.HELLO, instance, os.getpid()))
    local: deque[tuple[int, bytes]] = deque()
    out: list[tuple[int, int, bytes, float]] = []
    service: Service | None = None
    bind_error = _error_payload(RuntimeError("this service instance is bound to no session"))
    loads, dumps, clock = pickle.loads, wire.dumps, time.perf_counter
    ok, err = wire.S_OK, wire.S_ERR
    while True:
        if not local:
            if out:
                ch.send((wire.DONE, out))
                out = []
            try:
                msg = ch.recv()
            except EOFError:
                return
            kind = msg[0]
            if kind == wire.RUN:
                local.extend(msg[1])
            elif kind == wire.BIND:
                try:
                    service = Service(msg[2], msg[3])
                except Exception as exc:  # a broken app fails its tasks with the reason, not the instance
                    service, bind_error = None, _error_payload(exc)
            elif kind == wire.STOP:
                return
            continue
        tid, payload = local.popleft()
        t0 = clock()
        if service is None:
            data, status = bind_error, err
        else:
            try:
                data = dumps(service.fn(loads(payload)))
                status = ok
            except Exception as exc:
                data, status = _error_payload(exc), err
        out.append((tid, status, data, clock() - t0))
        if len(out) >= len(local):
            ch.send((wire.DONE, out))
            out = []


def _tight_timers() -> None:
    """Linux lets a sleeping process wake up to 50 us late by default (timer slack); a service instance serving
    millisecond tasks asks for 1 us, so a task's own sleeps and timeouts end when they should."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(29, 1000, 0, 0, 0)  # PR_SET_TIMERSLACK, in nanoseconds


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="HAL HTC service instance")
    ap.add_argument("--address", required=True)
    ap.add_argument("--instance", type=int, required=True)
    args = ap.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the manager stops instances, not the terminal's Ctrl-C
    sys.path.insert(0, os.getcwd())
    _tight_timers()
    serve(args.address, args.instance)


if __name__ == "__main__":
    main()
