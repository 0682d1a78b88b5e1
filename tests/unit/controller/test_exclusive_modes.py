"""Slurm's --exclusive=user|mcs|topo from a script, the command line or SBATCH_EXCLUSIVE through to the engine's
request: the mode arrives where placement reads it (engine/sharing.py), not as whole nodes."""

from __future__ import annotations

import pytest

from hal.cli.submit import input_environment
from hal.controller.directives import build_request
from hal.controller.jobs import spec_of
from hal.controller.option_values import DirectiveError
from hal.engine.request import request_of
from hal.model.resources import ResourceSpace


def engine_view(script: str, options: dict[str, str]) -> tuple[bool, str]:
    """(whole nodes, sharing mode) of the engine request a submission becomes."""
    req = build_request(script, options, {}, "/", 0.0)
    got = request_of(spec_of(1, req, "alice", 0.0, ()), ResourceSpace())
    return got.exclusive, got.share


def test_each_way_of_asking_reaches_the_engine() -> None:
    topo = "#!/bin/sh\n#SBATCH -N 2\n#SBATCH --exclusive=topo  # no other job in my block(s)\nsrun true\n"
    assert engine_view(topo, {}) == (False, "topo")
    assert engine_view("#!/bin/sh\ntrue\n", {"exclusive": "user"}) == (False, "user")  # the command line's form
    assert engine_view("#!/bin/sh\ntrue\n", {"exclusive": "MCS"}) == (False, "user")  # no MCS labels: its user
    assert engine_view("#!/bin/sh\ntrue\n", {"exclusive": "1"}) == (True, "")  # plain --exclusive: whole nodes
    assert engine_view(topo, {"exclusive": "user"}) == (False, "user")  # the command line wins, as in sbatch
    env = {k: str(v) for k, v in input_environment({"SBATCH_EXCLUSIVE": "topo"}).items()}
    assert engine_view("#!/bin/sh\ntrue\n", env) == (False, "topo")


def test_mem_zero_still_means_whole_nodes_and_bad_values_are_refused() -> None:
    whole = build_request("#!/bin/sh\n#SBATCH --exclusive=user --mem=0\ntrue\n", {}, {}, "/", 0.0)
    assert whole.exclusive is True  # all of each node's memory: nothing else fits there anyway
    mcs = build_request("#!/bin/sh\n#SBATCH --exclusive=mcs\ntrue\n", {}, {}, "/", 0.0)
    assert mcs.exclusive == "mcs" and "no MCS labels" in mcs.notes[0]
    with pytest.raises(DirectiveError, match="=user, =mcs or =topo"):
        build_request("#!/bin/sh\n#SBATCH --exclusive=switch\ntrue\n", {}, {}, "/", 0.0)
