"""Slot sharing among sessions: proportional to priority, fair between users, capped by demand."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hal.htc.sharing import Claim, allocate


def test_proportional_to_priority() -> None:
    got = allocate(6, [Claim("a", "alice", 2, 100), Claim("b", "bob", 1, 100)])
    assert got == {"a": 4, "b": 2}


def test_users_are_equal_however_many_sessions_they_open() -> None:
    got = allocate(8, [Claim("a1", "alice", 1, 99), Claim("a2", "alice", 1, 99), Claim("b", "bob", 1, 99)])
    assert got["a1"] + got["a2"] == 4 and got["b"] == 4


def test_demand_caps_and_leftover_goes_to_others() -> None:
    assert allocate(6, [Claim("a", "alice", 5, 1), Claim("b", "bob", 1, 100)]) == {"a": 1, "b": 5}


def test_strict_priority_serves_higher_tiers_first() -> None:
    claims = [Claim("hi", "alice", 5, 3), Claim("lo", "bob", 1, 100), Claim("lo2", "carol", 1, 100)]
    got = allocate(7, claims, "priority")
    assert got["hi"] == 3 and got["lo"] + got["lo2"] == 4 and abs(got["lo"] - got["lo2"]) <= 1


claims_st = st.lists(
    st.builds(Claim, st.integers(0, 10**6), st.sampled_from("uvw"), st.integers(1, 5), st.integers(0, 20)),
    max_size=8,
    unique_by=lambda c: c.key,
)


@given(st.integers(0, 64), claims_st, st.sampled_from(["proportional", "priority"]))
def test_never_over_total_nor_demand_and_work_conserving(total: int, claims: list[Claim], policy: str) -> None:
    got = allocate(total, claims, policy)
    assert all(0 <= got[c.key] <= c.demand for c in claims)
    assert sum(got.values()) == min(total, sum(c.demand for c in claims))
