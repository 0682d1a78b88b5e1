"""QA (ML engineer): `hal server --model /proc/x.zip` as root started normally (os.access is true for root) and
failed only at shutdown, when the model was saved. The folder is tried for real at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.learning import open_predictor


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_a_model_path_in_a_folder_that_takes_no_files_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot keep the runtime model at /proc/x\.zip: not a writable file path"):
        open_predictor("gbm", Path("/proc/x.zip"), tmp_path)


def test_a_writable_folder_is_left_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    live = open_predictor("gbm", folder / "m.zip", tmp_path)
    assert live.path == folder / "m.zip"
    assert list(folder.iterdir()) == []  # the probe file is removed


def test_a_model_path_in_a_missing_folder_is_refused_and_nothing_made(tmp_path: Path) -> None:
    """QA: --model /nonexistent/dir/m.zip made the folders (a typo grew a tree); predict-eval refuses it."""
    with pytest.raises(ValueError, match=r"its folder .*/no/such does not exist"):
        open_predictor("gbm", tmp_path / "no" / "such" / "m.zip", tmp_path)
    assert not (tmp_path / "no").exists()
    assert open_predictor("gbm", None, tmp_path / "fresh").path == tmp_path / "fresh" / "runtime-model.zip"
