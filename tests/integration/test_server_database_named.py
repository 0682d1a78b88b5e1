"""QA: `hal server` with a corrupted default SQLite file said "cannot use the database None: file is not a
database" (not which file), and with a PostgreSQL URL that could not be reached it printed the URL's password."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _server(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hal", "server", "--port", "0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_a_corrupted_default_database_is_named_by_its_path(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "hal.db").write_bytes(b"this is not a SQLite database at all, only some text\n" * 100)
    done = _server("--home", str(home))
    said = " ".join(done.stderr.split())
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"cannot use the database {home / 'hal.db'}:" in said and "None" not in said, said


def test_a_database_url_password_is_never_printed(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres:s3cretpw@127.0.0.1:1/hal"
    done = _server("--home", str(tmp_path / "h"), "--database", url)
    said = " ".join(done.stderr.split())
    assert done.returncode == 2 and "cannot use the database" in said, said
    assert "s3cretpw" not in done.stderr and "postgresql+psycopg://postgres:***@127.0.0.1:1/hal" in said, said
