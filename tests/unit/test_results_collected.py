"""benchmarks/RESULTS.md is built from benchmarks/results/*.md (benchmarks/collect_results.py): edited by hand for
several sessions, the two had drifted apart, and a rebuild would have dropped 229 lines of measurements."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def test_results_md_is_what_collect_results_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "results").symlink_to(BENCH / "results")
    module = runpy.run_path(str(BENCH / "collect_results.py"))
    monkeypatch.setitem(module["main"].__globals__, "HERE", tmp_path)
    module["main"]()
    built = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert built == (BENCH / "RESULTS.md").read_text(encoding="utf-8"), (
        "RESULTS.md differs from benchmarks/results/*.md: edit the results file, then run "
        "python benchmarks/collect_results.py"
    )
