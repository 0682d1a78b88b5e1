"""A topology.conf whose branches differ in depth: HAL pads the shallow one by repeating its top switch, which
leaked into SLURM_TOPOLOGY_ADDR (``top.top.s2.c05``, pattern ``switch.switch.switch.node``) and `hal nodes`
(``top/top/s2``), a switch that does not exist (QA). Slurm names each switch once."""

from __future__ import annotations

import json
from pathlib import Path

from hal.controller.machine import Machine
from hal.executors.jobenv import topology_variables

UNBALANCED = (
    "SwitchName=s0 Nodes=c[01-02]\nSwitchName=s1 Nodes=c[03-04]\nSwitchName=r0 Switches=s[0-1]\n"
    "SwitchName=s2 Nodes=c[05-08]\nSwitchName=top Switches=r0,s2\n"
)


def test_each_switch_is_named_once(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text(UNBALANCED)
    (tmp_path / "c.toml").write_text(
        'name = "u"\n[[nodes]]\nnames = "c[01-08]"\ncpus = 2\n[topology]\nslurm_conf = "topology.conf"\n'
    )
    machine = Machine.load(tmp_path / "c.toml")
    addrs = machine.topology_addrs(["c01", "c05"])
    assert addrs == {"c01": ["top", "r0", "s0"], "c05": ["top", "s2"], "@kind": ["switch"]}
    env = {"HAL_TOPOLOGY_ADDRS": json.dumps(addrs)}
    assert topology_variables(env, "c05") == {
        "SLURM_TOPOLOGY_ADDR": "top.s2.c05",
        "SLURM_TOPOLOGY_ADDR_PATTERN": "switch.switch.node",
    }
