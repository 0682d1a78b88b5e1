"""What a task's result becomes in the SDK: its value, or the exception it stands for."""

from __future__ import annotations

import pickle
from concurrent.futures import CancelledError
from typing import Any

from hal.htc import wire
from hal.htc.state import Result as Result  # (task id, status, pickled output or error)


class TaskError(Exception):
    """A task raised an exception that could not be rebuilt here; carries the remote type and traceback."""

    def __init__(self, type_name: str, message: str, remote_traceback: str) -> None:
        super().__init__(f"{type_name}: {message}\n\nRemote traceback:\n{remote_traceback}")
        self.type_name = type_name
        self.remote_traceback = remote_traceback


class TaskLost(Exception):
    """Every attempt of the task lost its service instance (killed, crashed, out of memory)."""


class RemoteTraceback(Exception):
    """Set as ``__cause__`` of a task's exception so the traceback shows where it was raised remotely."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


class ResultUnreadable(Exception):
    """A task's result that this process cannot unpickle: typically an object of a class whose module only the
    service instances can import (the task did run; its value is lost to this client)."""


class SessionBroken(ConnectionError):
    """The connection to the session manager was lost (the session may be recoverable: re-attach)."""


def unwrap(status: int, data: bytes) -> Any:
    """A result's value, or the exception it stands for (returned, not raised)."""
    if status == wire.S_OK:
        return pickle.loads(data)
    if status == wire.S_CANCELLED:
        return CancelledError()
    if status == wire.S_LOST:
        return TaskLost(data.decode())
    blob, type_name, message, text = pickle.loads(data)
    if blob is not None:
        try:
            exc = pickle.loads(blob)
            if isinstance(exc, BaseException):
                exc.__cause__ = RemoteTraceback(text)
                return exc
        except Exception:
            pass
    return TaskError(type_name, message, text)


def value_of(result: Result) -> Any:
    value = unwrap(result[1], result[2])
    if isinstance(value, BaseException) and result[1] != wire.S_OK:
        raise value
    return value
