"""hal update's field parsing (scontrol names, sbatch's value formats) and how a running job's plan follows."""

from __future__ import annotations

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.update import _planned_end, parse_fields


def test_scontrol_names_in_any_case_become_request_values() -> None:
    got = parse_fields(
        {"TimeLimit": "1:30:00", "jobname": "x", "NICE": "10", "StartTime": "now+60", "Dependency": "afterok:3:4"},
        1000.0,
    )
    assert got == {
        "time_limit": 5400.0, "name": "x", "nice": 10, "begin": 1060.0,
        "dependencies": [("afterok", "3"), ("afterok", "4")],
    }  # fmt: skip
    assert parse_fields({"TimeLimit": "+30"}, 0.0) == {"time_limit": ("+", 1800.0)}
    assert parse_fields({"TimeLimit": "UNLIMITED", "Dependency": ""}, 0.0) == {"time_limit": None, "dependencies": []}
    assert parse_fields({"ArrayTaskThrottle": "0", "Requeue": "1"}, 0.0) == {"array_limit": None, "requeue": True}
    assert parse_fields({"ExcNodeList": "vn[001-002]"}, 0.0) == {"exclude_nodes": ["vn001", "vn002"]}
    assert parse_fields({"TimeMin": "1:00:00"}, 0.0) == {"time_min": 3600.0}
    assert parse_fields({"timemin": "0"}, 0.0) == parse_fields({"TimeMin": "none"}, 0.0) == {"time_min": None}


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({}, "nothing to update"),
        ({"Colour": "red"}, "not a field hal update changes"),
        ({"TimeLimit": "soon"}, "TimeLimit=soon"),
        ({"NumNodes": "0"}, "must be >= 1"),
        ({"Dependency": "after:abc"}, "not a job id"),
        ({"JobName": "a\nb"}, "no control characters"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(fields: dict[str, str], said: str) -> None:
    with pytest.raises(SubmitError, match=said):
        parse_fields(fields, 0.0)


def test_a_plan_on_the_limit_follows_it_and_a_prediction_stays_under_it() -> None:
    assert _planned_end(100.0, 700.0, 600.0, 300.0) == 400.0  # planned on the limit: the new limit
    assert _planned_end(100.0, 700.0, 600.0, 900.0) == 1000.0
    assert _planned_end(100.0, 250.0, 600.0, 900.0) == 250.0  # a prediction under it stays
    assert _planned_end(100.0, 250.0, 600.0, 60.0) == 160.0  # but never past the new limit
    assert _planned_end(100.0, 250.0, 600.0, None) == 250.0
