"""Profiles: TOML, the short BACKFILL:ORDER[:BACKFILL_ORDER] names, and clear errors for unknown names."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.engine.plugins.multifactor import Multifactor
from hal.engine.profile import Profile


def test_defaults() -> None:
    p = Profile()
    assert (p.order, p.backfill, p.backfill_order, p.placement, p.correction) == (
        "fcfs",
        "easy",
        "queue",
        "firstfit",
        "reqtime",
    )


def test_short_names() -> None:
    assert Profile.parse("easy:fcfs") == Profile(order="fcfs", backfill="easy")
    assert Profile.parse("easy:fcfs:sjf") == Profile(order="fcfs", backfill="easy", backfill_order="sjf")
    assert Profile.parse("conservative:wfp3").backfill == "conservative"
    assert Profile.parse("none:unicep").order == "unicep"


@pytest.mark.parametrize("name", ["easy", "easy:fcfs:sjf:x", ""])
def test_short_names_with_the_wrong_shape(name: str) -> None:
    with pytest.raises(ValueError, match="BACKFILL:ORDER"):
        Profile.parse(name)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order": "lifo"}, r"unknown queue order 'lifo'; known: \[.*'fcfs'.*\]"),
        (
            {"backfill": "aggressive"},
            r"unknown backfill 'aggressive'; choose one of \['none', 'easy', 'conservative'\]",
        ),
        ({"backfill_order": "lifo"}, r"unknown backfill order 'lifo'; choose one of \['queue', 'sjf'\]"),
        (
            {"placement": "worstfit"},
            r"unknown placement 'worstfit'; choose one of \['firstfit', 'bestfit', 'topology'\]",
        ),
    ],
)
def test_unknown_names_are_clear_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Profile(**kwargs)  # type: ignore[arg-type]
    if "order" in kwargs:
        with pytest.raises(ValueError, match="unknown queue order"):
            Profile.parse(f"easy:{kwargs['order']}")


def test_toml_with_a_scheduler_table_and_order_args() -> None:
    text = """
[scheduler]
order = "multifactor"
backfill = "conservative"
placement = "bestfit"
half_life = 3600.0

[scheduler.order_args]
weight_age = 5.0
favor_small = true
"""
    p = Profile.from_toml(text)
    assert (p.order, p.backfill, p.placement, p.half_life) == ("multifactor", "conservative", "bestfit", 3600.0)
    order = p.make_order()
    assert isinstance(order, Multifactor)
    assert order.args.weight_age == 5.0 and order.args.favor_small


def test_toml_without_a_table() -> None:
    assert Profile.from_toml('order = "sjf"\nbackfill = "none"\n') == Profile(order="sjf", backfill="none")


def test_toml_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown profile keys \['bakfill'\]"):
        Profile.from_toml('[scheduler]\nbakfill = "easy"\n')
    with pytest.raises(ValueError, match="unknown backfill"):
        Profile.from_toml('[scheduler]\nbackfill = "sometimes"\n')
    with pytest.raises(ValueError, match=r"f1 has no arguments \['speed'\]; it takes \['submit_weight'\]"):
        Profile.from_toml('[scheduler]\norder = "f1"\n[scheduler.order_args]\nspeed = 2\n').make_order()


def test_values_of_the_wrong_type_are_refused_when_the_profile_is_read() -> None:
    """Accepted, they failed inside every scheduling pass (a loop of tracebacks, or every job FAILED)."""
    for text, message in [
        ('order = "multifactor"\nhalf_life = "7d"\n', "half_life must be a number of seconds > 0"),
        ("half_life = -3\n", "half_life must be a number"),
        ('correction = "bogus"\n', "unknown correction 'bogus'"),
        ('topology_reserve = 5\nplacement = "topology"\n', "topology_reserve is a text"),
        ("max_switch_wait = true\n", "max_switch_wait must be a number"),
        ('order = "tuned"\n[order_args]\nw_pred = "one"\n', "tuned argument w_pred must be a number, not 'one'"),
        ('order = "tuned"\n[order_args]\nw_pred = true\n', "must be a number, not True"),
        ('order = "multifactor"\n[order_args]\nfavor_small = 1\n', "favor_small must be true or false"),
        ('estimate = "psychic"\n', "unknown estimate 'psychic'"),
    ]:
        with pytest.raises(ValueError, match=message):
            Profile.from_toml(text)
    assert Profile.from_toml('order = "tuned"\n[order_args]\nw_pred = 2\n').order_args == {"w_pred": 2}


def test_a_profile_file_without_placement_keeps_the_tree_placement(tmp_path: Path) -> None:
    """A profile from `hal tune` names no placement: on a cluster with a tree it places on the tree (the default
    profile does), instead of silently falling back to first fit and refusing --switches jobs."""
    from hal.engine.profile import Profile

    path = tmp_path / "p.toml"
    path.write_text('order = "tuned"\nbackfill = "easy"\n[order_args]\nw_pred = 1.0\n')
    assert Profile.read(path, has_tree=True).placement == "topology"
    assert Profile.read(path, has_tree=False).placement == "firstfit"
    path.write_text('order = "fcfs"\nplacement = "bestfit"\n')
    assert Profile.read(path, has_tree=True).placement == "bestfit"  # said explicitly: kept
    path.write_text('order = "tuned"\n')
    with pytest.raises(ValueError, match="needs the weights hal tune found"):
        Profile.read(path, has_tree=False)
    with pytest.raises(ValueError, match="cannot read the profile"):
        Profile.read(tmp_path / "missing.toml", has_tree=False)


def test_keys_a_profile_file_leaves_out_keep_the_servers_defaults(tmp_path: Path) -> None:
    """QA: a file setting only max_switch_wait = 20 turned the server's multifactor order into fcfs."""
    from hal.engine.profile import Profile

    path = tmp_path / "p.toml"
    path.write_text("max_switch_wait = 20\n")
    base = Profile.server_default(has_tree=True)
    got = Profile.read(path, has_tree=True, base=base)
    assert (got.order, got.placement, got.max_switch_wait) == ("multifactor", "topology", 20)
    path.write_text('[scheduler]\norder = "sjf"\n')  # what it sets wins; the rest is still the server's
    assert Profile.read(path, has_tree=False, base=Profile.server_default(False)) == Profile(order="sjf")
    assert Profile.read(path, has_tree=False).order == "sjf"  # without a base: the built-in defaults, as before
    path.write_text('order = "multifactor"\n[order_args]\nweight_age = 2.0\n')
    assert Profile.read(path, has_tree=True, base=base).order_args == {"weight_age": 2.0}


def test_a_profile_file_with_bad_order_arguments_is_refused_when_read(tmp_path: Path) -> None:
    """QA: the server logged such a profile as loaded (order tuned, ...) and refused it only afterwards."""
    bad = tmp_path / "p.toml"
    bad.write_text('[scheduler]\norder = "tuned"\n[order_args]\nw_bogus = 2.0\n')
    with pytest.raises(ValueError, match=r"p\.toml: tuned has no arguments \['w_bogus'\]"):
        Profile.read(bad, has_tree=False)
    bad.write_text('[scheduler]\norder = "multifactor"\n[order_args]\nw_pred = 1.0\n')
    with pytest.raises(ValueError, match=r"p\.toml: .*w_pred"):
        Profile.read(bad, has_tree=False)
