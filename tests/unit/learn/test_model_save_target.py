"""QA (medium; destructive as root): save_model renamed its new file over whatever was at the path: a device
(/dev/full became a zip), a FIFO, a socket, and a symlink itself. A target that exists and is not a regular file is
refused and left as it is; a symlink is written through (the file it points to is replaced, the link kept). The
server's save at shutdown goes through the same save_model and logs the refusal instead of replacing the file."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from hal.cli.common import writable_files
from hal.controller.learning import LivePredictor, save_predictor
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History
from hal.learn.store import ModelFileError, load_model, save_model
from tests.unit.learn.conftest import SAMPLE
from tests.unit.learn.test_models import trained


@pytest.fixture(scope="module")
def model(sample_history: History) -> GbmPredictor:
    return trained(sample_history)


@contextlib.contextmanager
def _socket(path: Path) -> Iterator[Path]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        yield path


def _specials(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    fifo = tmp_path / "fifo.zip"
    os.mkfifo(fifo)
    yield fifo, "a FIFO (named pipe)"
    folder = tmp_path / "folder.zip"
    folder.mkdir()
    yield folder, "a folder"
    if os.geteuid() == 0:  # a node of its own, never one in /dev
        device = tmp_path / "null.zip"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        yield device, "a character device"


def test_a_target_that_is_not_a_regular_file_is_refused_and_kept(tmp_path: Path, model: GbmPredictor) -> None:
    for path, kind in [*_specials(tmp_path)]:
        before = os.lstat(path)
        with pytest.raises(ModelFileError, match=re.escape(f"it is {kind}, not a regular file")):
            save_model(model, path)
        after = os.lstat(path)
        assert (after.st_ino, stat.S_IFMT(after.st_mode)) == (before.st_ino, stat.S_IFMT(before.st_mode)), path
    with _socket(Path(f"/tmp/hal-sock-{os.getpid()}")) as sock:
        try:
            with pytest.raises(ModelFileError, match="it is a socket"):
                save_model(model, sock)
            assert stat.S_ISSOCK(os.lstat(sock).st_mode)
        finally:
            sock.unlink(missing_ok=True)
    assert not list(tmp_path.glob(".*.tmp"))  # refused before a temporary file was made


def test_a_symlink_is_written_through(tmp_path: Path, model: GbmPredictor) -> None:
    target = tmp_path / "real" / "model.zip"
    target.parent.mkdir()
    target.write_text("an old model")
    link = tmp_path / "link.zip"
    link.symlink_to(target)
    save_model(model, link)
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link itself was replaced by a file
    assert load_model(target).completions == model.completions
    dangling = tmp_path / "new.zip"
    dangling.symlink_to("made.zip")  # relative, to a file not there yet
    save_model(model, dangling)
    assert dangling.is_symlink() and load_model(tmp_path / "made.zip").model is not None
    assert not list(tmp_path.glob("**/.*.tmp"))
    to_fifo = tmp_path / "to-fifo.zip"
    os.mkfifo(tmp_path / "fifo")
    to_fifo.symlink_to(tmp_path / "fifo")
    with pytest.raises(ModelFileError, match="a FIFO"):
        save_model(model, to_fifo)
    assert to_fifo.is_symlink() and stat.S_ISFIFO(os.stat(to_fifo).st_mode)


def test_the_server_logs_the_refusal_at_shutdown(
    tmp_path: Path, model: GbmPredictor, caplog: pytest.LogCaptureFixture
) -> None:
    fifo = tmp_path / "m.zip"
    os.mkfifo(fifo)
    with caplog.at_level(logging.WARNING):
        assert save_predictor(LivePredictor(model, fifo)) is None
    assert "not a regular file" in caplog.text and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_writable_files_refuses_a_model_output_that_is_a_fifo_or_device(tmp_path: Path) -> None:
    fifo = tmp_path / "m.zip"
    os.mkfifo(fifo)
    with pytest.raises(typer.Exit):
        writable_files(fifo, regular=(fifo,))
    writable_files(fifo)  # any other output may be a pipe
    dangling = tmp_path / "link.zip"
    dangling.symlink_to("target.txt")
    writable_files(dangling, regular=(dangling,))
    assert (
        dangling.is_symlink() and not (tmp_path / "target.txt").exists()
    )  # the check removed the link and left the file


def _save_model_to(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = ["predict-eval", str(SAMPLE), "--predictor", "gbm", "--window", "0:600", "--save-model", str(path)]
    return subprocess.run(
        [sys.executable, "-m", "hal", *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


def test_predict_eval_keeps_the_link_and_the_fifo(tmp_path: Path) -> None:
    """The QA's commands: `ln -s target.txt link.zip; hal predict-eval T --save-model link.zip` replaced the link
    by a file, and --save-model FIFO replaced the FIFO with a zip after the run, exiting 0."""
    link = tmp_path / "link.zip"
    link.symlink_to("target.txt")
    fifo = tmp_path / "fifo.zip"
    os.mkfifo(fifo)
    runs = [_save_model_to(path, tmp_path) for path in (link, fifo)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert link.is_symlink() and load_model(tmp_path / "target.txt").model is not None
    said = " ".join(runs[1].stderr.split())
    assert runs[1].returncode != 0 and "a FIFO (named pipe), not a regular file" in said, said
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
