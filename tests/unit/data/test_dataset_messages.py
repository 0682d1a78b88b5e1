"""What `hal dataset` says when it refuses: plain words with the address and the OS's reason (QA: "error: cannot
read /x: FileNotFoundError: [Errno 2] ..." and "ValueError: ... is not a regular file"), and whole sentences
("error: jobs 41 read 'small'")."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.data.catalog import checksum_of, read_by, unreadable


def _said(uri: str) -> str:
    with pytest.raises(Exception) as failed:
        checksum_of(uri)
    return unreadable(uri, failed.value)


def test_an_unreadable_address_is_said_without_exception_names(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert _said(str(missing)) == f"cannot read {missing}: No such file or directory"
    assert _said(str(tmp_path)) == f"{tmp_path} is an empty folder: a folder dataset holds at least one file"
    assert _said("/dev/zero") == "/dev/zero is not a regular file: it is a device, pipe or socket"
    assert _said("nosuchproto://x/y") == "cannot read nosuchproto://x/y: Protocol not known: nosuchproto"
    assert unreadable("mem://x", FileNotFoundError("x")) == "cannot read mem://x: no such file"  # no errno


def test_a_dataset_still_read_is_refused_in_a_sentence() -> None:
    one = "dataset 'small' is read by job 41, which has not ended: cancel it or wait until it ends"
    assert read_by("small", [41]) == one
    many = read_by("small", list(range(1, 13)))
    assert many == (
        "dataset 'small' is read by jobs 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more, which have not ended: cancel them "
        "or wait until they end"
    )
