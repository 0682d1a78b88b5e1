"""sbatch's SBATCH_REQ_SWITCH and SBATCH_WAIT4SWITCH: how they combine with --switches and an #SBATCH --switches
line, and a refusal of their values that names them (the server can only name --switches)."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any


def switch_wait(options: MutableMapping[str, Any], env: Mapping[str, str], script: str = "") -> None:
    """SBATCH_WAIT4SWITCH: the wait of a --switches count given without one (command line or SBATCH_REQ_SWITCH),
    and it replaces SBATCH_REQ_SWITCH's own @wait and an #SBATCH --switches line's, as sbatch reads them in that
    order (command line > environment > script)."""
    wait, given = env.get("SBATCH_WAIT4SWITCH", ""), options.get("switches")
    if wait and given is None and script:
        given = _script_switches(script)
        if given is not None:
            options["switches"] = f"{given.partition('@')[0]}@{wait}"
        return
    if not wait or not isinstance(given, str):
        return
    count, at, _ = given.partition("@")
    if not at or given == env.get("SBATCH_REQ_SWITCH"):
        options["switches"] = f"{count}@{wait}"


def switches_from_env(options: Mapping[str, Any], env: Mapping[str, str], typed: bool) -> str | None:
    """The refusal of a --switches value whose bad part came from SBATCH_REQ_SWITCH (the count, when the command
    line gave none) or SBATCH_WAIT4SWITCH (the wait), naming that variable as sbatch does: the server said
    "--switches='abc' is not a whole number" of an option never typed (QA). None: fine, or not the environment's."""
    from hal.controller.option_values import DirectiveError
    from hal.controller.placement_options import placement_options

    def refused(value: str) -> str | None:
        try:
            placement_options({"switches": value})
        except DirectiveError as exc:
            return str(exc)
        return None

    given = options.get("switches")
    if not isinstance(given, str) or refused(given) is None:
        return None
    req, wait = env.get("SBATCH_REQ_SWITCH", ""), env.get("SBATCH_WAIT4SWITCH", "")
    count, _, after = given.partition("@")
    if req and not typed and count == req.partition("@")[0] and (said := refused(req)) is not None:
        return said.replace("--switches=", "SBATCH_REQ_SWITCH=", 1)
    if wait and after == wait and refused(count) is None:  # the count is fine: the wait is the variable's
        said = refused(f"{count}@{wait}") or ""
        why = said.partition(": ")[2].replace("the wait after @ is", "a switch wait is")
        return f"SBATCH_WAIT4SWITCH={wait!r}: {why}"
    return None


def _script_switches(script: str) -> str | None:
    """The script's own --switches; a script the server will refuse is left for it to name."""
    from hal.controller.script_options import DirectiveError, parse_script_options  # no engine: CLI start stays light

    try:
        return dict(parse_script_options(script)).get("switches")
    except DirectiveError:
        return None
