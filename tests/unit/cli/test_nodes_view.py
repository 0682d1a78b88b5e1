"""What `hal nodes` prints."""

from __future__ import annotations


def test_cache_sizes_are_shown_in_a_unit_that_keeps_them_readable() -> None:
    """QA: hal nodes --long showed a 400K cache as 0/0/0 in whole MB."""
    from hal.cli.nodes import size_text

    assert [size_text(x) for x in (0, 512, 400 * 1024, 1536 * 2**20, 10 * 2**30)] == ["0", "512", "400K", "1.5G", "10G"]
