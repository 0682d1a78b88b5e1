"""QA: `hal update JOB Topology=none` clears a job's topology request, but `hal submit --topology none` was refused
("use required=LEVEL or preferred=LEVEL"), and the refusal never said an empty --topology= clears a script's
#SBATCH --topology. none is taken at submission too: no constraint, over the script's."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.directives import build_request
from hal.controller.option_values import DirectiveError
from hal.controller.update import update
from tests.unit.controller.topokit import ADMIN, ALTERNATING, controller

SCRIPT = "#!/bin/sh\n#SBATCH -N 2 --topology=required=switch\ntrue\n"


def submitted(ctl: object, tmp: Path, script: str, **options: str) -> int:
    req = build_request(script, {"hold": "1", "time": "1:00", **options}, {}, str(tmp), 0)
    return int(ctl.submit(req, "root").job_ids[0])  # type: ignore[attr-defined]


@pytest.mark.parametrize("none", ["none", "None", ""])
def test_none_at_submission_drops_the_scripts_topology(tmp_path: Path, none: str) -> None:
    with controller(tmp_path, ALTERNATING) as ctl:
        kept = submitted(ctl, tmp_path, SCRIPT)
        assert ctl.live[kept].spec.topology_required == "switch"
        job = submitted(ctl, tmp_path, SCRIPT, topology=none)
        spec = ctl.live[job].spec
        assert (spec.topology_required, spec.topology_preferred) == ("", "")
        assert update(ctl, str(kept), ADMIN, {"Topology": "none"}) == [kept]  # as hal update takes it
        assert ctl.live[kept].spec.topology_required == ""


def test_a_bad_topology_value_names_none_and_the_empty_form(tmp_path: Path) -> None:
    with controller(tmp_path, ALTERNATING) as ctl, pytest.raises(DirectiveError) as got:
        submitted(ctl, tmp_path, "#!/bin/sh\ntrue\n", topology="switch")
    assert "use required=LEVEL, preferred=LEVEL, or none (or an empty value) for no constraint" in str(got.value)
