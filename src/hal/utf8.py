"""Whether a str is UTF-8 text: bytes of another encoding (an environment, a path) come into Python as lone
surrogates, which JSON, the store and the API cannot carry. Shared by the CLI and the SDK, which must not pull
each other in (the CLI imports httpx only when it talks to a server)."""

from __future__ import annotations


def is_text(text: str) -> bool:
    """Whether ``text`` is UTF-8 (not bytes of another encoding, which Python holds as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
