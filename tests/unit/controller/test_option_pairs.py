"""--requeue and --no-requeue settle as sbatch settles them: the command line's replaces the script's, the later
line of a script wins, and an API call giving both is refused (it ran as --no-requeue, whatever was meant)."""

from __future__ import annotations

import pytest

from hal.controller.directives import build_request
from hal.controller.option_values import DirectiveError


def _requeue(script_lines: str, given: dict[str, str]) -> bool:
    return build_request(f"#!/bin/sh\n{script_lines}true\n", given, {}, "/w", 0.0).requeue


def test_the_command_line_replaces_the_scripts_choice() -> None:
    assert _requeue("#SBATCH --no-requeue\n", {"requeue": "1"})
    assert not _requeue("#SBATCH --requeue\n", {"no-requeue": "1"})


def test_in_a_script_the_later_choice_wins() -> None:
    assert _requeue("#SBATCH --no-requeue\n#SBATCH --requeue\n", {})
    assert not _requeue("#SBATCH --requeue\n#SBATCH --no-requeue\n", {})
    assert _requeue("#SBATCH --no-requeue --requeue\n", {})


def test_both_given_at_once_are_refused_with_a_reason() -> None:
    with pytest.raises(DirectiveError, match="contradict each other"):
        _requeue("", {"requeue": "1", "no-requeue": "1"})
