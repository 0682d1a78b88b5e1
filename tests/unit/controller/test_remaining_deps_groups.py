"""How squeue %E's typed dependencies line up with the resolved entries the engine judges (remaining_deps.py)."""

from __future__ import annotations

from hal.controller.remaining_deps import typed_groups
from hal.model.job import Dependency, DependencyKind

OK, ANY = DependencyKind.AFTEROK, DependencyKind.AFTERANY


def test_whole_arrays_tasks_and_singleton_each_stand_as_typed() -> None:
    deps = [Dependency(OK, 6, 6), Dependency(OK, 7, 6), Dependency(OK, 12), Dependency(ANY, 3), Dependency(ANY, 4)]
    pairs = [["afterok", "6"], ["afterok", "9_2"], ["singleton", "3"], ["singleton", "4"]]
    assert typed_groups(pairs, deps) == [
        ("afterok:6_*", deps[:2]),
        ("afterok:9_2", [deps[2]]),
        ("singleton", deps[3:]),
    ]
    assert typed_groups([["singleton", ""]], []) == [("singleton", [])]  # no other job of the name: met


def test_entries_that_do_not_line_up_stand_together_behind_the_typed_list() -> None:
    deps = [Dependency(OK, 7), Dependency(OK, 8), Dependency(ANY, 20)]  # 6_[1-2]: a task list, two entries
    assert typed_groups([["afterok", "6_[1-2]"], ["afterany", "20"]], deps) == [("afterok:6_[1-2],afterany:20", deps)]
