"""QA: a flat profile with a [placement] table was refused blaming its valid keys; a value error did not name the
file; a byte-order mark was "Invalid statement"; tuned weights had no bound; a tiny max_age printed numpy's
overflow warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from hal.engine.api import Context
from hal.engine.plugins.tuned import Tuned, TunedArgs
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.model.resources import Resources


@pytest.mark.parametrize("first", ['order = "fcfs"', 'backfill = "easy"'])
def test_a_flat_profile_takes_a_placement_table(tmp_path: Path, first: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(f"{first}\n[placement]\nfragmentation = 0.5\n")
    profile = Profile.read(path, has_tree=True)
    assert profile.placement == "topology" and profile.placement_weights.fragmentation == 0.5
    assert Profile.from_toml(path.read_text()).placement_weights.fragmentation == 0.5


def test_a_nested_profile_still_refuses_stray_top_level_keys() -> None:
    with pytest.raises(ValueError, match=r"unknown profile tables or keys \['order'\]"):
        Profile.from_toml('order = "fcfs"\n[scheduler]\nbackfill = "easy"\n[placement]\nfragmentation = 0.5\n')


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('order = "multifactor"\n[order_args]\nweight_age = "500"\n', "multifactor argument weight_age must be"),
        ('order = "multifactor"\n[order_args]\nmax_age = 0\n', "multifactor argument max_age must be"),
        ("half_life = -1\n", "half_life must be"),
        ('order = "tuned"\n', "order 'tuned' needs the weights"),
    ],
)
def test_every_value_error_names_the_file(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "weights.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        Profile.read(path, has_tree=False)
    assert str(err.value).startswith(f"{path}: ") and said in str(err.value), str(err.value)


def test_a_byte_order_mark_is_not_part_of_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_text('\ufefforder = "sjf"\n', encoding="utf-8")
    assert Profile.read(path, has_tree=False).order == "sjf"
    assert Profile.from_toml('\ufefforder = "sjf"\n').order == "sjf"


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("w_pred = 1e308", "w_pred"),
        ("w_age = -1e300", "w_age"),
        ("w_wait = nan", "w_wait"),
        ("w_area = inf", "w_area"),
        ("max_wait = -5", "max_wait"),
        ("max_wait = inf", "max_wait"),
    ],
)
def test_tuned_values_out_of_bounds_are_refused_naming_the_key(tmp_path: Path, line: str, key: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(f'order = "tuned"\n[order_args]\n{line}\n')
    with pytest.raises(ValueError, match=f"^{path}: tuned argument {key} must be a number"):
        Profile.read(path, has_tree=False)


def test_the_largest_tuned_weights_give_finite_keys_above_the_starvation_guard() -> None:
    most = {name: 1.0e6 for name in ("w_pred", "w_req", "w_procs", "w_area", "w_age", "w_logarea", "w_wait")}
    order = Tuned(TunedArgs(**most))
    jobs = [
        JobSpec(job_id=i, submit_time=1.7e9, tasks=n, per_task=Resources(cpus=1), user="u", runtime=86400.0)
        for i, n in enumerate((1, 4096))
    ]
    keys = order.keys(jobs, np.array([1.0, 86400.0 * 7]), Context(total_cpus=8192, now=1.7e9 + 3600.0))
    assert np.isfinite(keys).all() and (np.abs(keys) < 1.0e12).all()


def test_a_tiny_max_age_gives_full_age_without_a_warning() -> None:
    order = Profile(order="multifactor", order_args={"max_age": 5e-324}).make_order()
    job = JobSpec(job_id=1, submit_time=0.0, tasks=2, per_task=Resources(cpus=1), user="u", runtime=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's RuntimeWarning (overflow in divide) was printed to the terminal
        prio = order.priorities([job], Context(total_cpus=4, now=10.0))  # type: ignore[attr-defined]
        parts = order.factors([job], Context(total_cpus=4, now=10.0))  # type: ignore[attr-defined]
    assert np.isfinite(prio).all() and parts["age"][0] == 1000.0
