"""The submission options that steer placement: datasets a job reads and writes (--input-data/--output-data),
and topology requests (--switches, --segment, --topology), read into JobRequest fields."""

from __future__ import annotations

import re
from typing import Any

from hal.controller.option_values import DirectiveError, int_option, parse_time

_DATASET = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


MAX_SWITCH_WAIT = 365 * 86400.0


def placement_options(options: dict[str, str]) -> dict[str, Any]:
    """--input-data/--output-data (dataset names), --switches=N[@maxwait] (N = 0: no switch request, as hal update's
    Switches=0 and scontrol's; maxwait -1, UNLIMITED or infinite: the longest, max_switch_wait), --segment=N and
    --topology=required=LEVEL|preferred=LEVEL|none (Kueue's TAS annotations as one option; none: no constraint)."""
    out: dict[str, Any] = {
        "inputs": _datasets(options, "input-data"),
        "outputs": _datasets(options, "output-data"),
    }
    both = sorted(set(out["inputs"]) & set(out["outputs"]))
    if both:
        raise DirectiveError(f"{both[0]!r} is both an --input-data and an --output-data; an output is a new dataset")
    if options.get("switches"):
        count, at, wait = options["switches"].partition("@")
        if at and not count.strip():  # it said "--switches='' is not a whole number"
            raise DirectiveError(f"--switches={options['switches']}: give the switch count before @ (e.g. 1@{wait})")
        if at and not wait:
            raise DirectiveError(f"--switches={options['switches']}: give the wait after @ (e.g. 1@30:00), or no @")
        out["switches"] = int_option({"switches": count}, "switches", None, 0) or None  # 0: none, as hal update
        infinite = wait.strip().lower() in ("unlimited", "infinite", "-1")  # Slurm's time parser: -1 is INFINITE
        try:
            seconds = parse_time(wait) if wait and not infinite else None
        except DirectiveError as exc:
            if "100 years" in str(exc):
                raise DirectiveError(f"--switches={options['switches']}: wait at most 365 days") from None
            raise DirectiveError(
                f"--switches={options['switches']}: the wait after @ is a time (minutes, MM:SS, HH:MM:SS or D-HH)"
            ) from None
        if seconds is None and wait and not infinite:
            seconds = 0.0  # @0: no wait at all, as in Slurm (parse_time reads a zero limit as none)
        if seconds is not None and seconds > MAX_SWITCH_WAIT:
            raise DirectiveError(f"--switches={options['switches']}: wait at most 365 days")
        out["switches_wait"] = seconds if out["switches"] else None  # no wait without a switch count
    if options.get("segment"):
        out["segment"] = segment = int_option(options, "segment", None)
        nodes = int_option(options, "nodes", None)
        if segment is not None and nodes is None:
            raise DirectiveError(f"--segment={segment} needs -N/--nodes, a multiple of {segment}")
        if segment is not None and nodes is not None and segment <= nodes and nodes % segment:  # larger: ignored
            # at admission (admission.segment_ignored), as Slurm's eval_nodes_block ignores it
            raise DirectiveError(f"--segment={segment} needs -N/--nodes, a multiple of {segment} (got {nodes})")
    if options.get("topology") and options["topology"].strip().lower() != "none":  # none: no constraint, as hal
        # update's Topology=none and an empty --topology= (over a script's #SBATCH --topology); it was refused (QA)
        kind, sep, level = options["topology"].partition("=")
        if "=" in level:  # required=block,preferred=block was read as the level 'block,preferred=block'
            raise DirectiveError(
                f"--topology={options['topology']}: give only one of required=LEVEL or preferred=LEVEL (a required "
                "level is a hard limit, so a preferred one beside it adds nothing)"
            )
        if not sep or kind not in ("required", "preferred") or not level:
            raise DirectiveError(
                f"--topology={options['topology']}: use required=LEVEL, preferred=LEVEL, or none (or an empty value) "
                "for no constraint"
            )
        out[f"topology_{kind}"] = level
    return out


def _datasets(options: dict[str, str], key: str) -> list[str]:
    """Dataset names: each is a file name in the node caches, so no folders and no hidden files."""
    if key in options and any(not x.strip() for x in options[key].split(",")):  # '' and 'a,,b' were taken
        raise DirectiveError(f"--{key}={options[key]!r}: an empty dataset name")
    names = [x.strip() for x in options.get(key, "").split(",") if x.strip()]
    for name in names:
        if not _DATASET.fullmatch(name) or len(name) > 200:
            raise DirectiveError(
                f"--{key}={name[:40]!r}: a dataset name is 1 to 200 ASCII letters, digits, '_', '-' and '.', "
                "and starts with a letter, a digit or '_'"
            )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DirectiveError(f"--{key}: {twice[0]!r} is named twice")
    return names
