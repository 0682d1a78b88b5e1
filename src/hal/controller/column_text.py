"""Free text as the store's columns take it: PostgreSQL refuses a NUL byte in any text and a value longer than a
sized column (VARCHAR(n)), where SQLite stored both, so the same request was a 500 on one database only. The
limits are those of hal/controller/store.py's columns (a test holds them equal)."""

from __future__ import annotations

MAX_ACCOUNT = 64  # jobs.account, job_attempts.account
MAX_TOKEN_LABEL = 128  # tokens.label
MAX_IDEMPOTENCY_KEY = 128  # submissions.key


def column_problem(field: str, text: str, most: int | None = None, controls: bool = False) -> str | None:
    """Why ``text`` cannot be stored, in --job-name's words (``--account: at most 64 characters, no control
    characters``), or None. ``controls`` refuses every control character, for a name shown in listings, not
    only NUL."""
    bad = "\x00" in text or (most is not None and len(text) > most)
    if controls:
        bad = bad or any(ord(ch) < 32 or ord(ch) == 127 for ch in text)
    if not bad:
        return None
    rules = ([f"at most {most} characters"] if most is not None else []) + [
        "no control characters" if controls else "no NUL bytes"
    ]
    return f"{field}: {', '.join(rules)}"
