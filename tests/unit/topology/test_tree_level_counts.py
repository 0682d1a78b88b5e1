"""`hal cluster show` counts an unbalanced tree's switches at their own levels (QA: s2 under the root was counted
again as a tier1, "1 tier2 > 2 tier1(s) > 2 switch(s)" with one tier1 switch); placement is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app

UNBALANCED = (
    "SwitchName=s1 Nodes=n[01-04]\nSwitchName=s2 Nodes=n[05-08]\n"
    "SwitchName=agg Switches=s1\nSwitchName=top Switches=agg,s2\n"
)


def _show(tmp: Path, conf: str, *extra: str) -> str:
    (tmp / "topology.conf").write_text(conf)
    path = tmp / "c.toml"
    path.write_text('[[nodes]]\nnames = "n[01-08]"\ncpus = 2\n[topology]\nslurm_conf = "topology.conf"\n')
    res = CliRunner().invoke(app, ["cluster", "show", str(path), *extra])
    assert res.exit_code == 0, res.output
    return res.output


def test_a_switch_under_the_root_is_not_counted_as_a_tier1(tmp_path: Path) -> None:
    assert "topology: 1 tier2(s) > 1 tier1(s) > 2 switch(s)" in _show(tmp_path, UNBALANCED)
    said = json.loads(_show(tmp_path, UNBALANCED, "--json"))
    assert said["topology"] == {"tier2": 1, "tier1": 1, "switch": 2}


def test_a_switch_is_counted_at_its_height_not_where_its_branch_is_padded(tmp_path: Path) -> None:
    # mid has a leaf (s3) and a tier1 (agg) under it: a tier2, though s3's branch is one level shorter
    conf = (
        "SwitchName=s1 Nodes=n[01-02]\nSwitchName=s2 Nodes=n[03-04]\nSwitchName=s3 Nodes=n[05-06]\n"
        "SwitchName=s4 Nodes=n[07-08]\nSwitchName=agg Switches=s1\nSwitchName=mid Switches=agg,s3\n"
        "SwitchName=top Switches=mid,s2,s4\n"
    )
    said = json.loads(_show(tmp_path, conf, "--json"))
    assert said["topology"] == {"tier3": 1, "tier2": 1, "tier1": 1, "switch": 4}
