"""QA: slots=0 and slots=-1 were accepted at session open and its tasks never ran; refused on both sides now."""

from __future__ import annotations

import pytest

from hal.htc.client import HtcClient
from hal.htc.state import SessionSpec


@pytest.mark.parametrize("slots", [0, -1, 1.5, True, "2"])
def test_the_manager_refuses_a_session_without_a_slot(slots: object) -> None:
    with pytest.raises(ValueError, match="slots"):
        SessionSpec.from_dict({"app": "a", "max_slots": slots})


def test_the_client_refuses_before_connecting() -> None:
    client = HtcClient("/nonexistent/htc.sock")
    for slots in (0, -1):
        with pytest.raises(ValueError, match=r"slots must be a whole number of at least 1"):
            client.session("a", slots=slots)


def test_a_session_with_slots_or_none_is_accepted() -> None:
    assert SessionSpec.from_dict({"app": "a", "max_slots": 3}).max_slots == 3
    assert SessionSpec.from_dict({"app": "a", "max_slots": None}).max_slots is None
