"""A node group's ``cpuset`` is checked when the cluster file is read (QA F5): syntax (with the group and key
named) by every reader, including `hal cluster show`; CPUs this host lacks at server start (Machine.load)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from hal.clusterfile import ClusterFileError, cluster_from_dict, parse_cpuset
from hal.controller.machine import Machine, cpu_ranges

HOST = sorted(os.sched_getaffinity(0))


def _file(tmp_path: Path, cpuset: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[nodes]]\nprefix = "a"\ncount = 1\ncpus = 1\nmem = "1G"\n\n'
        f'[[nodes]]\nprefix = "b"\ncount = 2\ncpus = 1\nmem = "1G"\ncpuset = {cpuset}\n'
    )
    return path


def _data(cpuset: Any) -> dict[str, Any]:
    return {"nodes": [{"prefix": "a", "cpus": 1}, {"prefix": "b", "count": 2, "cpus": 1, "cpuset": cpuset}]}


@pytest.mark.parametrize(
    ("cpuset", "says"),
    [
        ([[0, 1], [999, 1000]], "a list of CPU ids"),
        ("0-x", "'0-x' is not a CPU id or a range"),
        ("5-1", "the range 5-1 runs backwards"),
        ("", "is not a CPU id"),
        ([], "a list of CPU ids"),
        ([True], "a list of CPU ids"),
        ([-1], "CPU ids run from 0"),
        ("0-99999999999", "CPU ids run from 0"),
        (3, "a list of CPU ids"),
    ],
)
def test_malformed_cpusets_are_refused_naming_group_and_key(cpuset: Any, says: str) -> None:
    with pytest.raises(ClusterFileError) as err:
        cluster_from_dict(_data(cpuset))
    assert str(err.value).startswith("[[nodes]] #2: cpuset = ") and says in str(err.value)


def test_well_formed_cpusets_parse() -> None:
    assert parse_cpuset("0-2, 5") == [0, 1, 2, 5] and parse_cpuset([3, 1]) == [3, 1] and parse_cpuset("4") == [4]
    assert cpu_ranges([5, 0, 1, 2, 9, 8]) == "0-2,5,8-9"


def test_a_cpuset_naming_cpus_the_host_lacks_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError) as err:
        Machine.load(_file(tmp_path, "[999, 1000]"))
    assert str(err.value) == f"[[nodes]] #2: cpuset names CPUs 999-1000; this host has CPUs {cpu_ranges(HOST)}"
    with pytest.raises(ClusterFileError, match=r"#2: cpuset = \[\[0, 1\], \[999, 1000\]\]"):
        Machine.load(_file(tmp_path, "[[0, 1], [999, 1000]]"))
    with pytest.raises(ClusterFileError, match="runs backwards"):
        Machine.load(_file(tmp_path, '"5-1"'))


def test_a_cpuset_within_the_host_still_loads(tmp_path: Path) -> None:
    machine = Machine.load(_file(tmp_path, f'"{HOST[0]}"'))
    assert machine.cpusets[1] == machine.cpusets[2] == [HOST[0]]
