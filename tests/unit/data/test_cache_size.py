"""[data] cache_bytes reads the same as a number or as text, with binary units (QA: "100" was 100 MiB as text but
100 bytes as a number, and "100K" was 0 and refused)."""

from __future__ import annotations

import pytest

from hal.data.live_config import byte_size


@pytest.mark.parametrize(
    ("given", "size"),
    [(100, 100), ("100", 100), ("100B", 100), ("100K", 102_400), ("500M", 500 * 2**20), ("2GiB", 2 * 2**30),
     ("1.5G", int(1.5 * 2**30)), (" 1 T ", 2**40), ("abc", None), ("10X", None), (True, None), (None, None)],
)  # fmt: skip
def test_sizes(given: object, size: int | None) -> None:
    assert byte_size(given) == size
