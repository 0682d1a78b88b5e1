"""The options a batch script's #SBATCH/#HAL lines carry, read as sbatch reads them. Kept free of the engine's
imports (numpy): `hal submit` reads a script's own options (its job name, its --switches) before sending it, and
loading the engine cost every submission about 0.2 s."""

from __future__ import annotations

import shlex

from hal import sbatch_ignored


class DirectiveError(ValueError):
    """A directive or option HAL cannot accept, with the line or option at fault."""


PER_GPU = ("cpus-per-gpu", "mem-per-gpu", "ntasks-per-gpu", "tres-per-task")  # options sized by GPUs
OPPOSITE = {"requeue": "no-requeue", "no-requeue": "requeue"}  # in sbatch's own words, the later one wins

SHORT = {
    "J": "job-name", "N": "nodes", "n": "ntasks", "c": "cpus-per-task", "t": "time", "p": "partition",
    "A": "account", "q": "qos", "o": "output", "e": "error", "d": "dependency", "a": "array", "b": "begin",
    "D": "chdir", "G": "gpus", "H": "hold", "C": "constraint", "w": "nodelist", "x": "exclude", "i": "input",
}  # fmt: skip
VALUED = {
    "job-name", "nodes", "ntasks", "ntasks-per-node", "cpus-per-task", "mem", "mem-per-cpu", "gres", "gpus",
    "time", "partition", "account", "qos", "output", "error", "dependency", "array", "begin", "chdir", "export",
    "nice", "wrap", "gpus-per-node", "gpus-per-task", "constraint", "nodelist", "comment", "open-mode",
    "mail-type", "mail-user", "exclude", "input",
}  # fmt: skip
VALUED |= {"input-data", "output-data", "switches", "segment", "topology"}  # data plane and topology requests
VALUED |= {"signal", "kill-on-invalid-dep", "time-min", *PER_GPU}
FLAGS = {"requeue", "no-requeue", "exclusive", "hold"}
# Options of Slurm scripts that HAL accepts without acting on them (hints, accounting, binding): a script carrying
# one was refused whole. Each is named in a note at submission.
IGNORED_VALUED = set(sbatch_ignored.IGNORED_VALUED)
IGNORED_FLAGS = set(sbatch_ignored.IGNORED_FLAGS) | {"parsable"}  # a script's --parsable changes nothing either
SHORT |= sbatch_ignored.IGNORED_SHORT
VALUED |= IGNORED_VALUED
FLAGS |= IGNORED_FLAGS | {"test-only"}


def directives_of(script: str) -> list[tuple[int, str]]:
    """(line number, option text) for each #SBATCH/#HAL line before the first command, as sbatch reads them."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(script.splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        if not text.startswith("#"):
            break
        for prefix in ("#SBATCH", "#HAL"):
            if text.startswith(prefix) and (len(text) == len(prefix) or text[len(prefix)].isspace()):
                found.append((number, text[len(prefix) :]))
    return found


def parse_args(words: list[str], where: str) -> dict[str, str]:
    """Option words (``--time=1:00``, ``-N 2``, ``--requeue``) into long names and string values."""
    out: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            key, eq, value = word[2:].partition("=")
        elif word.startswith("-") and len(word) >= 2 and word[1] in SHORT:
            key, value, eq = SHORT[word[1]], word[2:].lstrip("="), "=" if len(word) > 2 else ""
        else:
            raise DirectiveError(f"{where}: unexpected word {word!r} (options look like --name=value)")
        if key in FLAGS:
            if eq and key != "exclusive":  # sbatch's --exclusive[=user|mcs|topo] (exclusive_option reads it)
                raise DirectiveError(f"{where}: --{key} takes no value")
            out.pop(OPPOSITE.get(key, ""), None)  # sbatch: the later of --requeue/--no-requeue wins
            out[key] = value if eq else "1"
        elif key in VALUED:
            if not eq:
                if i + 1 >= len(words):
                    raise DirectiveError(f"{where}: --{key} needs a value")
                i += 1
                value = words[i]
            out[key] = f"{out[key]},{value}" if key in LISTS and out.get(key) else value
        else:
            raise DirectiveError(f"{where}: unknown option --{key}")
        i += 1
    return out


def parse_script_options(script: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for number, text in directives_of(script):
        try:
            words = shlex.split(text, comments=True)
        except ValueError as exc:
            raise DirectiveError(f"line {number}: cannot read directive: {exc}") from None
        for key, value in parse_args(words, f"line {number}").items():
            options.pop(OPPOSITE.get(key, ""), None)
            options[key] = f"{options[key]},{value}" if key in LISTS and options.get(key) else value
    return options


LISTS = {"input-data", "output-data"}  # given twice, both count (the first was dropped without a word)
