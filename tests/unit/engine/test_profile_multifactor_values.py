"""A multifactor profile whose max_age is 0 or whose weights are negative or huge is refused at load, naming the
key: it gave NaN or infinite priorities in every pass (QA: max_age = 0 divided by zero, 1e308 overflowed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hal.engine.api import Context
from hal.engine.plugins.multifactor import MultifactorArgs
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.model.resources import Resources

MAX_WEIGHT = 2**32 - 1  # Slurm's largest PriorityWeight*, the bound multifactor documents


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("max_age = 0", "max_age"),
        ("max_age = -60", "max_age"),
        ("weight_age = 1e308", "weight_age"),
        ("weight_fairshare = -1", "weight_fairshare"),
        (f"weight_qos = {MAX_WEIGHT + 1}", "weight_qos"),
        ("weight_jobsize = 1" + "0" * 400, "weight_jobsize"),
    ],
)
def test_read_refuses_the_value_naming_its_key(tmp_path: Path, line: str, key: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(f'[scheduler]\norder = "multifactor"\n[order_args]\n{line}\n')
    with pytest.raises(ValueError, match=f"multifactor argument {key} must be"):
        Profile.read(path, has_tree=False)
    with pytest.raises(ValueError, match=key):
        MultifactorArgs(**{key: -1})


def test_bounded_weights_and_a_positive_max_age_give_finite_priorities() -> None:
    args = {k: float(MAX_WEIGHT) for k in ("weight_age", "weight_fairshare", "weight_jobsize", "weight_qos")}
    order = Profile(order="multifactor", order_args={**args, "weight_partition": 0, "max_age": 1e-3}).make_order()
    job = JobSpec(job_id=1, submit_time=0.0, tasks=2, per_task=Resources(cpus=1), user="u", runtime=1.0)
    prio = order.priorities([job], Context(total_cpus=4, now=10.0))  # type: ignore[attr-defined]
    assert np.isfinite(prio).all()
