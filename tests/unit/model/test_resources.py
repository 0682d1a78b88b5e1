"""Resource vectors: arithmetic, comparison, validation and the numpy form a cluster uses."""

from __future__ import annotations

import numpy as np
import pytest

from hal.model.resources import BASE_NAMES, Resources, ResourceSpace


def test_addition_merges_extras() -> None:
    a = Resources(2, 1024, 1, {"lic": 1})
    b = Resources(1, 512, 0, {"lic": 2, "ssd": 5})
    assert a + b == Resources(3, 1536, 1, {"lic": 3, "ssd": 5})
    assert a + Resources() == a


def test_scaling() -> None:
    assert Resources(2, 100, 1, {"lic": 1}).scaled(3) == Resources(6, 300, 3, {"lic": 3})
    assert Resources(2, 100).scaled(0) == Resources(0, 0, 0, {})


def test_fits_in_compares_every_component() -> None:
    node = Resources(8, 4096, 2, {"lic": 1})
    assert Resources(8, 4096, 2).fits_in(node)
    assert not Resources(9).fits_in(node)
    assert not Resources(1, 5000).fits_in(node)
    assert not Resources(1, 0, 3).fits_in(node)
    assert Resources(1, extras={"lic": 1}).fits_in(node)
    assert not Resources(1, extras={"lic": 2}).fits_in(node)
    assert not Resources(1, extras={"ssd": 1}).fits_in(node)  # an extra the node lacks


@pytest.mark.parametrize(
    "kwargs",
    [{"cpus": -1}, {"mem_mb": -1}, {"gpus": -2}, {"extras": {"lic": -1}}],
    ids=["cpus", "mem", "gpus", "extra"],
)
def test_negative_amounts_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        Resources(**kwargs)  # type: ignore[arg-type]


def test_get_and_names() -> None:
    r = Resources(4, 10, 1, {"b": 2, "a": 1})
    assert [r.get(n) for n in ("cpus", "mem_mb", "gpus", "a", "b", "zz")] == [4, 10, 1, 1, 2, 0]
    assert r.names() == (*BASE_NAMES, "a", "b")


def test_space_vectors_round_trip() -> None:
    space = ResourceSpace.covering(Resources(1, extras={"lic": 1}), Resources(2, extras={"ssd": 3}))
    assert space.names == (*BASE_NAMES, "lic", "ssd")
    r = Resources(3, 100, 1, {"ssd": 2})
    vec = space.vector(r)
    assert vec.dtype == np.int64 and vec.tolist() == [3, 100, 1, 0, 2]
    assert space.resources(vec) == Resources(3, 100, 1, {"lic": 0, "ssd": 2})


def test_space_refuses_a_resource_the_cluster_lacks() -> None:
    with pytest.raises(ValueError, match=r"\['fpga'\] do not exist"):
        ResourceSpace().vector(Resources(1, extras={"fpga": 1}))
    assert ResourceSpace().vector(Resources(1, extras={"fpga": 0})).tolist() == [1, 0, 0]  # asking for none is fine
