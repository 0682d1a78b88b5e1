"""--switches forms that sbatch and hal update disagreed on (QA): a wait of -1 (Slurm's time parser reads it as
INFINITE, as UNLIMITED) was refused, and a count of 0 was refused at submission ("must be >= 1") while hal update's
Switches=0 dropped the request. 0 is no switch request in both now."""

from __future__ import annotations

from hal.controller.directives import build_request
from hal.controller.update import parse_fields


def request(text: str) -> tuple[int | None, float | None]:
    req = build_request("#!/bin/sh\ntrue\n", {"switches": text, "nodes": "2"}, {}, "/", 0.0)
    return req.switches, req.switches_wait


def test_a_wait_of_minus_one_is_infinite() -> None:
    assert request("1@-1") == request("1@infinite") == request("1@UNLIMITED") == (1, None)
    assert parse_fields({"Switches": "2@-1"}, 0.0) == {"switches": {"switches": 2, "switches_wait": None}}


def test_zero_switches_is_no_request_at_submission_as_in_hal_update() -> None:
    assert request("0") == request("0@10:00") == (None, None)
    none = {"switches": {"switches": None, "switches_wait": None}}
    assert parse_fields({"Switches": "0"}, 0.0) == parse_fields({"Switches": "0@10:00"}, 0.0) == none
