"""-N MIN-MAX is run on its minimum: the submission says so (QA: `-N 2-4` was silently planned as 2 nodes)."""

from __future__ import annotations

from hal.controller.directives import build_request


def test_a_node_range_is_said_to_run_on_its_minimum() -> None:
    req = build_request("#!/bin/sh\n#SBATCH -N 2-4\ntrue\n", {}, {}, "/tmp", 0.0)
    assert req.nodes == 2
    assert any("--nodes=2-4: HAL runs the job on its minimum, 2 nodes" in n and "--nodes=4" in n for n in req.notes)
    same = build_request("#!/bin/sh\ntrue\n", {"nodes": "3-3"}, {}, "/tmp", 0.0)
    assert same.nodes == 3 and not any("--nodes" in n for n in same.notes)
    plain = build_request("#!/bin/sh\ntrue\n", {"nodes": "3"}, {}, "/tmp", 0.0)
    assert not any("--nodes" in n for n in plain.notes)
