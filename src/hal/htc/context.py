"""What a running task may ask about its service instance: the session's common data."""

from __future__ import annotations

from typing import Any

_COMMON: list[Any] = [None]


def common_data() -> Any:
    """The common data of the session this service instance now serves (None when the session has none)."""
    return _COMMON[0]


def set_common(value: Any) -> None:
    _COMMON[0] = value
