"""QA (high): `hal simulate --cluster FILE --placement firstfit` (or bestfit, or hal compare) read the cluster file for
its [data] table before it was checked: a missing file was a FileNotFoundError traceback, a folder an
IsADirectoryError, bad TOML or Latin-1 text an error without the file's name. With --placement the error is now the
one-line error the command gives without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "src/hal/data/kth-sp2-sample.swf"


def hal(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hal", *(str(a) for a in args)]
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=env)


def bad_cluster(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "typo.toml"
    if kind == "folder":
        (tmp_path / "adir").mkdir()
        return tmp_path / "adir"
    path = tmp_path / f"{kind}.toml"
    path.write_bytes(b'name = "x"\n[[nodes\n' if kind == "toml" else 'name = "café"\n'.encode("latin-1"))
    return path


@pytest.mark.parametrize("kind", ["missing", "folder", "toml", "latin1"])
def test_placement_gives_the_same_one_line_error_naming_the_file(tmp_path: Path, kind: str) -> None:
    cluster = bad_cluster(tmp_path, kind)
    plain = hal("simulate", SAMPLE, "--cluster", cluster, cwd=tmp_path)
    assert plain.returncode == 2 and plain.stderr.startswith("error:"), plain.stderr
    for placement in ("firstfit", "bestfit"):
        placed = hal("simulate", SAMPLE, "--cluster", cluster, "--placement", placement, cwd=tmp_path)
        assert (placed.returncode, placed.stderr) == (2, plain.stderr)
    compared = hal("compare", SAMPLE, "--cluster", cluster, "--placement", "firstfit", "--no-plots", cwd=tmp_path)
    assert (compared.returncode, compared.stderr) == (2, plain.stderr)
    assert cluster.name in plain.stderr and "Traceback" not in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1
