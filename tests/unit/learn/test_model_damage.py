"""Damaged model files end as ModelFileError (and last2), never as a traceback or a LightGBM abort."""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hal.engine.predict.basic import LastTwo
from hal.learn.evaluate import History
from hal.learn.store import ModelFileError, load_model, load_or_fallback, save_model
from tests.unit.learn.test_models import trained

OFFSETS_PER_MEMBER = 24


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, sample_history: History) -> bytes:
    path = tmp_path_factory.mktemp("model") / "good.zip"
    save_model(trained(sample_history), path)
    return path.read_bytes()


def member_spans(data: bytes) -> dict[str, tuple[int, int]]:
    """Where each member's compressed bytes lie in the file (after its local header)."""
    spans = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            spans[info.filename] = (start, start + info.compress_size)
    return spans


def contents(data: bytes) -> dict[str, bytes] | None:
    """Every member's bytes as zipfile reads them (CRC checked), or None when they cannot all be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {name: zf.read(name) for name in zf.namelist()}
    except Exception:
        return None


def test_flipped_bytes_inside_compressed_members_are_refused(tmp_path: Path, good: bytes) -> None:
    """QA: about 1 in 20 random byte flips raised zlib.error (a traceback in simulate, predict-eval and compare, and
    hal server exited without setting the file aside). Each member, at evenly spaced offsets, first and last.
    A flip in a stream's final padding bits, which zipfile never decodes, leaves every member's bytes intact:
    that file is the good model and loads."""
    path = tmp_path / "bad.zip"
    intact, refused = contents(good), 0
    for name, (start, end) in member_spans(good).items():
        assert end - start > OFFSETS_PER_MEMBER, name
        step = (end - start - 1) / (OFFSETS_PER_MEMBER - 1)
        for offset in sorted({start + round(i * step) for i in range(OFFSETS_PER_MEMBER)}):
            damaged = bytearray(good)
            damaged[offset] ^= 0xFF
            path.write_bytes(bytes(damaged))
            if contents(bytes(damaged)) == intact:
                load_model(path)
                continue
            with pytest.raises(ModelFileError, match=re.escape(str(path))):
                load_model(path)
            refused += 1
    assert refused >= 4 * (OFFSETS_PER_MEMBER - 1)
    damaged = bytearray(good)
    damaged[200:204] = b"XXXX"  # the QA repro (zlib.error in meta.json)
    path.write_bytes(bytes(damaged))
    pred, warning = load_or_fallback(path)
    assert isinstance(pred, LastTwo) and warning is not None
    assert (
        warning == f"{path}: meta.json is damaged (Error -3 while decompressing data: invalid distance too far "
        "back); falling back to last2 predictions"
    )


@pytest.mark.parametrize(("field", "value"), [(10, 99), (8, 0x0001)])  # compression method 99; encryption flag
def test_a_damaged_directory_entry_is_refused(tmp_path: Path, good: bytes, field: int, value: int) -> None:
    """zipfile raises NotImplementedError or RuntimeError for these, not BadZipFile."""
    damaged = bytearray(good)
    entry = good.index(b"PK\x01\x02")  # the central directory's first entry: meta.json
    damaged[entry + field : entry + field + 2] = struct.pack("<H", value)
    path = tmp_path / "bad.zip"
    path.write_bytes(bytes(damaged))
    with pytest.raises(ModelFileError, match=r"meta\.json is damaged"):
        load_model(path)


def test_the_server_sets_a_damaged_model_aside_and_starts(tmp_path: Path, good: bytes) -> None:
    """QA: a damaged HAL_HOME/runtime-model.zip stopped hal server before it listened, at every restart."""
    from hal.controller.learning import MODEL_FILE, open_predictor

    damaged = bytearray(good)
    damaged[200:204] = b"XXXX"  # the QA repro: inside meta.json's compressed bytes
    (tmp_path / MODEL_FILE).write_bytes(bytes(damaged))
    live = open_predictor("gbm", None, tmp_path)
    assert live.warning is not None and "moved to" in live.warning
    assert not (tmp_path / MODEL_FILE).exists()
    assert [p.name.startswith(f"{MODEL_FILE}.unusable-") for p in tmp_path.iterdir()] == [True]


def rewritten(good: bytes, tmp_path: Path, change: str) -> Path:
    """The good file with booster_0.txt changed and its checksum updated: bytes as intact as the file says."""
    src = tmp_path / "good.zip"
    src.write_bytes(good)
    with zipfile.ZipFile(src) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    text = parts["booster_0.txt"].decode()
    if change == "threshold":  # the QA repro
        text = re.sub(r"threshold=\S+", "threshold=abc", text, count=1)
    elif change == "underscore":
        text = re.sub(r"split_feature=(\d)", r"split_feature=1_\1", text, count=1)
    elif change == "child":
        text = re.sub(r"left_child=\S+", "left_child=0", text, count=1)
    elif change == "leaves":
        text = text.replace("num_leaves=", "num_leaves=9", 1)
    else:
        text = text[: len(text) // 3]
    parts["booster_0.txt"] = text.encode()
    meta = json.loads(parts["meta.json"])
    meta["sha256"]["booster_0.txt"] = hashlib.sha256(parts["booster_0.txt"]).hexdigest()
    parts["meta.json"] = json.dumps(meta).encode()
    path = tmp_path / f"{change}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def test_an_invalid_booster_text_with_a_good_checksum_does_not_abort(tmp_path: Path, good: bytes) -> None:
    """QA: such a text (another LightGBM version, another tool) killed the process with SIGABRT inside LightGBM.
    Loaded in a child process, so the old behaviour fails this test instead of killing pytest."""
    changes = ["threshold", "underscore", "child", "leaves", "cut"]
    paths = [str(rewritten(good, tmp_path, change)) for change in changes]
    script = (
        "import sys\nfrom hal.learn.store import ModelFileError, load_model\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n        load_model(p)\n        print('loaded', p)\n"
        "    except ModelFileError as exc:\n        print('refused', exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert len(lines) == len(changes) and all(line.startswith("refused") for line in lines), run.stdout
    assert "threshold holds 'abc', not a number" in lines[0]
    assert isinstance(load_or_fallback(paths[0])[0], LastTwo)


def test_an_absurd_residual_with_a_good_checksum_is_refused(tmp_path: Path, good: bytes) -> None:
    """QA: residuals of 800 (a log ratio) passed the finite check and overflowed exp() in the p90 spread, so
    `hal server --estimate gbm` died in its relearn with a traceback instead of setting the file aside."""
    import numpy as np

    src = tmp_path / "good.zip"
    src.write_bytes(good)
    with zipfile.ZipFile(src) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    with np.load(io.BytesIO(parts["window.npz"])) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["residuals"] = np.full_like(arrays["residuals"], 800.0)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    parts["window.npz"] = buf.getvalue()
    meta = json.loads(parts["meta.json"])
    meta["sha256"]["window.npz"] = hashlib.sha256(parts["window.npz"]).hexdigest()
    parts["meta.json"] = json.dumps(meta).encode()
    path = tmp_path / "residuals.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"a residual is beyond \+-60"):
        load_model(path)
    assert isinstance(load_or_fallback(path)[0], LastTwo)


def test_a_broken_archive_or_meta_is_named_in_plain_words(tmp_path: Path, good: bytes) -> None:
    """QA: the messages were the parsers' own ("Expecting value: line 1 column 1 (char 0)")."""
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelFileError, match=r"not a whole zip archive"):
        load_model(cut)
    meta = tmp_path / "meta.zip"
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(meta, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, b"not json{" if name == "meta.json" else src.read(name))
    with pytest.raises(ModelFileError, match=r"meta\.json is not valid JSON at line 1, column 1\)$"):
        load_model(meta)


@pytest.mark.parametrize(
    ("change", "said"),
    [("table", r"meta\.json records no checksums \("), ("entry", r"meta\.json records no checksum for booster_0\.txt")],
)
def test_missing_checksums_are_not_called_a_mismatch(tmp_path: Path, good: bytes, change: str, said: str) -> None:
    """QA: a meta.json without its sha256 table was reported as a checksum that does not match the saved one."""
    path = tmp_path / f"{change}.zip"
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "meta.json":
                meta = json.loads(data)
                if change == "table":
                    del meta["sha256"]
                else:
                    del meta["sha256"]["booster_0.txt"]
                data = json.dumps(meta).encode()
            dst.writestr(name, data)
    with pytest.raises(ModelFileError, match=said):
        load_model(path)
    assert isinstance(load_or_fallback(path)[0], LastTwo)
