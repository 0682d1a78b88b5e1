"""Text the REST API takes in: every string of a submission or an update checked in one place, and a working
directory that is not UTF-8 given as its raw bytes.

JSON may carry lone UTF-16 surrogates ("\\ud800"): Python decodes them into strings that can be neither stored
as UTF-8 nor serialized again, so a job accepted with one failed at launch and every later listing of it was a
500. They are refused at submission with a 400 naming the field, as is text the store's columns cannot take
(``check_column``: a NUL byte, more than a sized column holds), which PostgreSQL refused with a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from fastapi import HTTPException

from hal.controller.column_text import MAX_IDEMPOTENCY_KEY, column_problem


def lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in ``text`` as U+XXXX, or None when the text can be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"U+{ord(text[exc.start]):04X}"
    return None


def check_text(field: str, text: str) -> None:
    """HTTP 400 when ``text`` cannot be UTF-8: ``comment contains an invalid character (lone surrogate U+D800)``."""
    found = lone_surrogate(text)
    if found is not None:
        raise HTTPException(400, f"{field} contains an invalid character (lone surrogate {found})")


def check_strings(items: Iterable[tuple[str, object]]) -> None:
    """Each (field name, value) pair whose value is a string."""
    for field, value in items:
        if isinstance(value, str):
            check_text(field, value)


def check_column(field: str, text: str | None, most: int | None = None, controls: bool = False) -> None:
    """HTTP 400 for text the store cannot take (controller/column_text.py): a NUL byte, more than a sized
    column's ``most`` characters, and with ``controls`` any control character."""
    problem = column_problem(field, text, most, controls) if text is not None else None
    if problem is not None:
        raise HTTPException(400, problem)


def check_mapping(what: str, data: Mapping[str, object], by_key: bool = True) -> None:
    """A dict's keys (``env name``) and its string values, each named by its key (``comment``, ``Comment``), or
    with ``by_key`` False by what it is (``env variable PATH``)."""
    for key, value in data.items():
        check_text(f"{what} name", key)
        if isinstance(value, str):
            check_text(key if by_key else f"{what} variable {key}", value)


def check_submission(
    script: str, wrap: str | None, options: Mapping[str, object], env: Mapping[str, str], workdir: str,
    idempotency_key: str | None, args: list[str],
) -> None:  # fmt: skip
    """Every string of POST /v1/jobs's body."""
    check_strings([("script", script), ("wrap", wrap), ("workdir", workdir), ("idempotency_key", idempotency_key)])
    check_column("idempotency_key", idempotency_key, MAX_IDEMPOTENCY_KEY)
    check_strings((f"args[{i}]", arg) for i, arg in enumerate(args))
    check_mapping("options", options)
    check_mapping("env", env, by_key=False)


RAW_WORKDIR = (
    "workdir_bytes: a working directory whose name is not UTF-8, as the base64 of its raw bytes (e.g. a Latin-1 "
    "name); the job runs there through an alias the server makes under its home (workdirs/)"
)


def raw_workdir(encoded: str, home: Path | None) -> str:
    """A UTF-8 path that leads to the directory whose raw name is base64 ``encoded``: a symbolic link under the
    server's home, named for the bytes' digest. The job's processes chdir through it into the real directory
    (their getcwd() is the real name, as sbatch would give them); the records show the alias, which is text."""
    try:
        raw = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise HTTPException(400, "workdir_bytes is not base64") from None
    if not raw.startswith(b"/") or b"\x00" in raw:
        raise HTTPException(400, "workdir_bytes must be an absolute path without NUL bytes")
    try:
        return raw.decode("utf-8")  # it was text after all: no alias needed
    except UnicodeDecodeError:
        pass
    if home is None:
        raise HTTPException(400, "this server cannot run jobs in a directory whose name is not UTF-8")
    folder = home / "workdirs"
    folder.mkdir(parents=True, exist_ok=True)
    alias = folder / hashlib.sha256(raw).hexdigest()[:32]
    if os.path.islink(alias) and os.fsencode(os.readlink(alias)) == raw:
        return str(alias)
    tmp = alias.with_name(f"{alias.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(raw, os.fsencode(tmp))
    os.replace(tmp, alias)  # atomic: two submissions from there at once both find it
    return str(alias)
