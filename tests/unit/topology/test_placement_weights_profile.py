"""A profile's [placement] weights as QA found them: the level-first rule lost to rounding at the default ratio,
[[placement]] and dollars_per_hour accepted and ignored, a refusal that sent the user into a second one, and
`hal explain`'s what-if unable to explain a weighted run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.engine.plugins.score import PlacementWeights
from hal.engine.profile import Profile

SAMPLE = Path(__file__).resolve().parents[3] / "src" / "hal" / "data" / "kth-sp2-sample.swf"


@pytest.mark.parametrize(("topology", "fragmentation"), [(0.7, 0.07), (0.3, 0.03), (1.0, 0.1), (2.0, 0.2)])
def test_the_default_ratio_keeps_the_level_first_rule(topology: float, fragmentation: float) -> None:
    """0.07 * 10 is 0.7000000000000001: weights in exactly the defaults' ratio lost Slurm's rule."""
    weights = PlacementWeights(topology=topology, fragmentation=fragmentation)
    assert weights.level_first
    assert "the lowest level that fits wins first" in weights.formula()
    assert not PlacementWeights(topology=topology, fragmentation=fragmentation * 1.01).level_first


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[scheduler]\nplacement = "topology"\n[[placement]]\ndata = 0\n', r"not \[\[placement\]\], an array"),
        ("[[placement]]\ndata = 0\n", r"not \[\[placement\]\], an array"),
        ('placement = "bestfit"\n[scheduler]\norder = "sjf"\n', "the placement's name goes under \\[scheduler\\]"),
        ('placement = 3\n[scheduler]\norder = "sjf"\n', "must be one table of weights .*, not 3"),
        ("[placement]\ndollars_per_hour = 3\n", "dollars_per_hour is not a placement weight.*egress_per_gb"),
    ],
)
def test_a_placement_slot_that_is_not_one_table_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "prof.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        Profile.read(path, has_tree=True)


def test_weights_without_a_tree_say_topology_placement_needs_a_cluster_file(tmp_path: Path) -> None:
    """Told only to set placement = "topology", the user then met "needs a cluster file (--cluster)"."""
    path = tmp_path / "prof.toml"
    path.write_text("[placement]\nfragmentation = 5\n")
    with pytest.raises(ValueError, match=r'placement = "topology".*a cluster file with a topology \(--cluster\)'):
        Profile.read(path, has_tree=False)


def test_what_if_explain_takes_the_profile_weights(tmp_path: Path) -> None:
    from hal.cli.main import app

    toml = tmp_path / "c.toml"
    toml.write_text('[[nodes]]\nprefix = "n"\ncount = 64\ncpus = 8\n[topology]\nlevels = ["spine", "switch"]\n'
                    "fanouts = [4, 16]\n")  # fmt: skip
    prof = tmp_path / "prof.toml"
    prof.write_text("[placement]\nfragmentation = 5\ndata = 0.25\n")
    args = ["explain", "50", "--trace", str(SAMPLE), "--cluster", str(toml)]
    res = CliRunner().invoke(app, [*args, "--profile", str(prof)])
    assert res.exit_code == 0, res.output
    assert "job 50 started" in res.output and "total = 1 x topology + 0.25 x data + 5 x frag" in res.output
    prof.write_text('[scheduler]\nplacement = "firstfit"\n')
    res = CliRunner().invoke(app, [*args, "--profile", str(prof)])
    assert res.exit_code != 0 and "explains topology placement, not 'firstfit'" in res.output
