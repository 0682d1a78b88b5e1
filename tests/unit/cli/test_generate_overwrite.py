"""`hal cluster generate -o FILE` and `hal trace generate FILE` make a file from nothing: an existing file is
refused unless --force (QA: a hand-written cluster file was overwritten without a word), and a path that cannot
be written is refused before anything is generated, as every HAL output is (writable_files)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app

HAND_WRITTEN = '# my cluster\n[[nodes]]\nnames = "gpu[001-004]"\ncpus = 64\n'


def _cluster(out: Path, *extra: str) -> list[str]:
    return ["cluster", "generate", "--nodes", "2", "--cpus", "4", "-o", str(out), *extra]


def _trace(out: Path, *extra: str) -> list[str]:
    return ["trace", "generate", str(out), "--jobs", "20", "--procs", "8", *extra]


@pytest.mark.parametrize("make", [_cluster, _trace], ids=["cluster", "trace"])
def test_an_existing_file_is_kept_unless_force(tmp_path: Path, make: Callable[..., list[str]]) -> None:
    out = tmp_path / "mine.toml"
    out.write_text(HAND_WRITTEN)
    refused = CliRunner().invoke(app, make(out))
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and f"cannot write {out}: the file exists (--force overwrites it)" in said, said
    assert out.read_text() == HAND_WRITTEN  # kept (it was overwritten)
    forced = CliRunner().invoke(app, make(out, "--force"))
    assert forced.exit_code == 0, forced.output
    assert out.read_text() != HAND_WRITTEN and out.stat().st_size > 0


@pytest.mark.parametrize("make", [_cluster, _trace], ids=["cluster", "trace"])
def test_a_new_file_is_written_and_a_missing_folder_named(tmp_path: Path, make: Callable[..., list[str]]) -> None:
    out = tmp_path / "new.out"
    assert CliRunner().invoke(app, make(out)).exit_code == 0 and out.stat().st_size > 0
    lost = tmp_path / "nope" / "x.out"
    done = CliRunner().invoke(app, make(lost))
    said = " ".join(done.output.split())
    assert done.exit_code == 2 and f"its folder {lost.parent} does not exist" in said, said
