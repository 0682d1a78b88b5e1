"""The values of sbatch options (times, begin times, arrays, dependencies, counts, memory) and the error that names
the option at fault: what every option parser of a submission shares."""

from __future__ import annotations

import re
import signal
from datetime import datetime, time, timedelta

from hal.clusterfile import ClusterFileError, parse_mem_mb
from hal.controller.script_options import DirectiveError as DirectiveError  # its home; named here too
from hal.model.job import SHARING, Sharing

MAX_ARRAY_TASKS = 10_000
MAX_COUNT = 2**31 - 1  # counts and MB, as Slurm's 32-bit fields: products of two stay inside 64-bit arrays
MAX_SECONDS = 100 * 365 * 86400.0  # --time and --begin
MAX_ARRAY_INDEX = 1_000_000
DEP_KINDS = ("after", "afterany", "afterok", "afternotok", "aftercorr")
AFTER_ONLY = " (only after:JOB+MINUTES takes a delay)"
ANY_OF = ("?", "")  # the pair that marks a '?' list: any one dependency met lets the job go


_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_time(text: str, option: str = "time") -> float | None:
    """Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S; 0, UNLIMITED or infinite mean no limit."""
    text = text.strip()
    if text.lower() in ("unlimited", "infinite"):
        return None
    m = _TIME.match(text)
    if not m:
        raise DirectiveError(f"--{option}={text!r}: use minutes, MM:SS, HH:MM:SS or D-HH:MM:SS")
    days, a, b, c = (int(g) if g is not None else None for g in m.groups())
    if days is not None:
        seconds = days * 86400 + (a or 0) * 3600 + (b or 0) * 60 + (c or 0)
    elif c is not None:
        seconds = (a or 0) * 3600 + (b or 0) * 60 + c
    elif b is not None:
        seconds = (a or 0) * 60 + b
    else:
        seconds = (a or 0) * 60
    if seconds > MAX_SECONDS:
        raise DirectiveError(f"--{option}={text}: more than 100 years; use UNLIMITED for no limit")
    return float(seconds) if seconds > 0 else None


def parse_time_min(text: str) -> float | None:
    """sbatch --time-min: a time (0: none); UNLIMITED is no minimum a limit can be lowered to, and Slurm refuses it."""
    if text.strip().lower() in ("unlimited", "infinite"):
        raise DirectiveError(f"invalid --time-min specification {text.strip()!r}: give a time (0 for none)")
    return parse_time(text, "time-min")


def parse_begin(text: str, now: float) -> float:
    """Slurm's --begin forms, at most a century ahead (now+99999999999999999999 was accepted, and listing the job
    then crashed on a time past what the platform's clock holds)."""
    at = _begin(text.strip(), now)
    if at > now + MAX_SECONDS:
        raise DirectiveError(f"--begin={text}: more than 100 years ahead")
    return at


def _begin(text: str, now: float) -> float:
    m = re.match(r"^now\+(\d+)(seconds|second|s|minutes|minute|min|m|hours|hour|h|days|day|d)?$", text)
    if m:
        unit = (m.group(2) or "s")[0]
        return now + int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    if text in ("now", "today"):
        return now
    text = NAMED_TIMES.get(text.lower(), text)
    text = _clock(text)
    day = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", text)  # MM/DD[/YY]: that day's midnight
    if day:
        today = datetime.fromtimestamp(now).date()
        year = int(day[3]) + (2000 if day[3] and len(day[3]) == 2 else 0) if day[3] else today.year
        try:
            at = datetime(year, int(day[1]), int(day[2]))
        except ValueError:
            raise DirectiveError(f"--begin={text!r}: no such day") from None
        if not day[3] and at.date() < today:
            at = at.replace(year=year + 1)  # Slurm: a day already past this year is next year's
        return at.timestamp()
    try:
        if re.match(r"^\d{1,2}:\d{2}(:\d{2})?$", text):  # the next such time: today, or tomorrow once it passed
            hour, minute, sec = (int(x) for x in f"{text}:0".split(":")[:3])
            at = datetime.combine(datetime.fromtimestamp(now).date(), time(hour, minute, sec))
            return (at + timedelta(days=1) if at.timestamp() < now else at).timestamp()
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise DirectiveError(f"--begin={text!r}: use now+SECONDS, HH:MM or YYYY-MM-DDTHH:MM:SS") from None


def _clock(text: str) -> str:
    """10:00AM, 8pm, 12:30pm as 24-hour HH:MM[:SS] (Slurm reads the AM/PM forms)."""
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*([AaPp][Mm])", text)
    if not m:
        return text
    hour = int(m[1]) % 12 + (12 if m[4].lower() == "pm" else 0)
    return f"{hour:02d}:{m[2] or '00'}" + (f":{m[3]}" if m[3] else "")


NAMED_TIMES = {"midnight": "00:00", "tomorrow": "00:00", "noon": "12:00", "elevenses": "11:00", "fika": "15:00",
               "teatime": "16:00"}  # fmt: skip  # Slurm's words for --begin


def parse_array(text: str) -> tuple[list[int], int | None]:
    """``0-99%10``, ``1,3,5-7``, ``0-15:4``: the task indices and the limit on tasks running at once."""
    body, _, limit_text = text.partition("%")
    indices: set[int] = set()
    try:
        limit = int(limit_text) if limit_text else None
        for part in body.split(","):
            rng, _, step_text = part.partition(":")
            step = int(step_text) if step_text else 1
            lo_text, dash, hi_text = rng.partition("-")
            lo = int(lo_text)
            hi = int(hi_text) if dash else lo
            if lo < 0 or hi < lo or step < 1 or hi > MAX_ARRAY_INDEX:
                raise ValueError
            if (hi - lo) // step + 1 + len(indices) > MAX_ARRAY_TASKS:
                raise DirectiveError(f"--array={text!r}: more than MaxArraySize={MAX_ARRAY_TASKS} tasks")
            indices.update(range(lo, hi + 1, step))
    except ValueError as exc:
        if isinstance(exc, DirectiveError):
            raise
        raise DirectiveError(f"--array={text!r}: use e.g. 0-99, 1,3,5-7, 0-15:4 or 0-99%10") from None
    if limit is not None and limit < 1:
        raise DirectiveError(f"--array={text!r}: the %limit must be >= 1")
    return sorted(indices), min(limit, len(indices)) if limit is not None else None  # %10^20 means all


def parse_dependency(text: str) -> list[tuple[str, str]]:
    """``afterok:12:13,afterany:14_2`` into (kind, job reference) pairs; ``singleton`` as ("singleton", "").
    A bare job id (``72``) is ``afterany:72``, as sbatch reads it; ``after:12+5`` keeps its ``+MINUTES`` in the
    reference (admission.resolve_deps reads it). ``?`` (any one of) ends the list with ANY_OF, as ``singleton``
    marks its own: one flag for the list, since Slurm takes one separator only."""
    deps: list[tuple[str, str]] = []
    if "?" in text and "," in text:
        raise DirectiveError(
            f"--dependency={text!r}: use ',' (all of) or '?' (any of) between dependencies, not both (as Slurm)"
        )
    for part in text.split("?" if "?" in text else ","):
        if part == "singleton":  # after the user's other jobs of the same name (resolved at submission)
            deps.append(("singleton", ""))
            continue
        if re.fullmatch(r"\d+(_\d+)?", part):
            deps.append(("afterany", part))
            continue
        kind, _, refs = part.partition(":")
        if kind not in DEP_KINDS or not refs:
            raise DirectiveError(
                f"--dependency={text!r}: use {'|'.join(DEP_KINDS)}:JOBID[:JOBID...], JOBID or singleton"
            )
        for ref in refs.split(":"):
            if not re.match(r"^\d+(_\d+)?(\+\d+)?$" if kind == "after" else r"^\d+(_\d+)?$", ref):
                raise DirectiveError(f"--dependency={text!r}: {ref!r} is not a job id" + AFTER_ONLY * ("+" in ref))
            deps.append((kind, ref))
    return [*deps, ANY_OF] if "?" in text else deps


def int_option(options: dict[str, str], key: str, default: int | None, low: int = 1) -> int | None:
    if key not in options:
        return default
    text = options[key]
    if key == "nodes" and "-" in text[1:]:  # a range: the minimum is what we plan with
        text, _, most = text.partition("-")
        if not most.strip().isdigit():
            raise DirectiveError(f"--{key}={options[key]!r} is not a whole number or a range MIN-MAX")
        if text.strip().isdigit() and int(most) < int(text):  # Slurm refuses it; it ran on the minimum
            raise DirectiveError(
                f"--{key}={options[key]}: the minimum node count ({text}) is over the maximum ({most})"
            )
    try:
        value = int(text)
    except ValueError:
        raise DirectiveError(f"--{key}={options[key]!r} is not a whole number") from None
    if value < low:
        raise DirectiveError(f"--{key}={value} must be >= {low}")
    if value > MAX_COUNT:  # 10^20 CPUs overflowed the engine's 64-bit arrays (an Internal Server Error)
        raise DirectiveError(f"--{key}={value} is too large (at most {MAX_COUNT:,})")
    return value


def node_count(options: dict[str, str], listed: int) -> int | None:
    """-N with a -w list of ``listed`` nodes: every listed node is in the job's allocation (one node each for -w
    alone); a minimum above the list adds other nodes (engine/listed_nodes.py), as sbatch does, so the job runs on
    max(MIN, listed) nodes. Slurm refuses a list longer than the maximum ("Node count specification invalid"):
    HAL ran such a job on the first MIN nodes of the list."""
    nodes = int_option(options, "nodes", None)
    if not listed or nodes is None:
        return listed or nodes
    given = options["nodes"]
    most = int(given.partition("-")[2]) if "-" in given[1:] else nodes
    if listed > most:
        raise DirectiveError(
            f"Node count specification invalid: --nodelist names {listed} nodes, more than -N {given} allows "
            f"(at most {most}); give -N {listed} or list fewer nodes"
        )
    return max(nodes, listed)


def mem_option(options: dict[str, str], key: str) -> int | None:
    if key not in options:
        return None
    try:
        mb = parse_mem_mb(options[key])
    except ClusterFileError:
        raise DirectiveError(f"--{key}={options[key]!r}: use e.g. 512M, 4G or a number of MB") from None
    if mb > MAX_COUNT:
        raise DirectiveError(f"--{key}={options[key]}: too large (at most {MAX_COUNT:,} MB)")
    return mb


def comment_option(options: dict[str, str]) -> str:
    text = options.get("comment", "")
    if len(text) > 1024 or any(ord(ch) < 32 for ch in text):
        raise DirectiveError("--comment: at most 1024 characters, no control characters")
    return text


def check_paths(options: dict[str, str], workdir: str) -> None:
    """The working directory and --output/--error/--input patterns hold no control character: `hal show`, `hal
    history` and sacct-style listings print them to whoever reads them, administrators too (QA: a user's ESC
    sequences retitled and cleared an administrator's terminal). Job names and comments are refused alike."""
    for key, text in (("chdir", options.get("chdir", workdir)), *((k, options.get(k, "")) for k in PATHS)):
        bad = next((ch for ch in text if 0 < ord(ch) < 32 or ord(ch) == 127), None)  # NUL: its own message
        if bad is not None:
            what = "the working directory" if key == "chdir" and "chdir" not in options else f"--{key}"
            raise DirectiveError(
                f"{what} {text!r} holds a control character (U+{ord(bad):04X}), which listings would print raw: "
                "use a path without one" + (" (submit from, or --chdir to, another folder)" if key == "chdir" else "")
            )


PATHS = ("output", "error", "input")


def open_mode_option(options: dict[str, str]) -> str:
    mode = options.get("open-mode", "truncate")
    if mode not in ("append", "truncate"):
        raise DirectiveError(f"--open-mode={mode}: use append or truncate")
    return mode


MCS_NOTE = (
    "--exclusive=mcs: HAL has no MCS labels, so the job shares its nodes with your own jobs only, as with "
    "--exclusive=user (the user is the finest label an MCS plugin gives)"
)


def exclusive_option(options: dict[str, str]) -> tuple[bool | Sharing, list[str]]:
    """sbatch's --exclusive[=user|mcs|topo]: True for whole nodes, else the mode (engine/sharing.py applies it),
    and the note saying how a value is honoured."""
    value = options.get("exclusive")
    if value is None:
        return False, []
    word = value.strip().lower()
    if word == "1":
        return True, []
    for mode in SHARING:
        if word == mode:
            return mode, [MCS_NOTE] if mode == "mcs" else []
    raise DirectiveError(f"--exclusive={value}: use --exclusive, or =user, =mcs or =topo as in Slurm")


WHOLE_MEMORY = ["--mem=0 asks for all of each node's memory (Slurm's meaning): the job gets whole nodes"]


def unacted_notes(options: dict[str, str], ignored: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Options a Slurm script carries that HAL accepts without acting on them, each said once."""
    notes = []
    if "mail-type" in options or "mail-user" in options:
        notes.append("--mail-type/--mail-user accepted but ignored: HAL sends no mail (follow jobs with hal wait)")
    rest = sorted(k for k in options if k in ignored)
    if rest:
        notes.append(f"accepted but not acted on by HAL: {', '.join('--' + k for k in rest)}")
    low, dash, high = options.get("nodes", "").partition("-")
    ranged = dash and low.strip().isdigit() and high.strip().isdigit() and int(high) > int(low)  # QA: silently MIN
    if ranged and not options.get("nodelist"):  # with -w: every listed node (node_count)
        notes.append(
            f"--nodes={options['nodes']}: HAL runs the job on its minimum, {int(low)} nodes, and never grows it "
            f"toward {int(high)} when more are free (Slurm may); ask --nodes={int(high)} for {int(high)} nodes"
        )
    return notes


MAX_SIGNAL_LEAD = 65535  # seconds: Slurm's limit on --signal's @sig_time


def early_signal(text: str) -> tuple[int, int, bool] | None:
    """--signal=[{R|B}:]SIG[@SECONDS] as (signal number, seconds before the time limit, batch shell only).

    Slurm's meaning: SIG (a number or a name such as USR1 or SIGUSR1) goes out SECONDS (default 60) before the
    job's time limit, to the job's processes but not the batch shell, or with B: to the batch shell only (the
    script traps it). R: only concerns reservations, which HAL does not have, so it is accepted and changes
    nothing."""
    text = text.strip()
    if not text:
        return None
    flags, colon, rest = text.partition(":")
    if not colon:
        flags, rest = "", text
    if flags and not set(flags.upper()) <= {"R", "B"}:
        raise DirectiveError(f"--signal={text}: the prefix before ':' is R, B or RB")
    name, at, lead = rest.partition("@")
    number = signal_number(name, f"--signal={text}")
    if number in (signal.SIGKILL, signal.SIGSTOP):
        raise DirectiveError(f"--signal={text}: signal {number} cannot be sent as a warning")
    if at and not lead.strip().isdigit():
        raise DirectiveError(f"--signal={text}: give the seconds before the time limit after @ (e.g. USR1@120)")
    seconds = int(lead) if at else 60
    if seconds > MAX_SIGNAL_LEAD:
        raise DirectiveError(f"--signal={text}: at most {MAX_SIGNAL_LEAD} seconds before the time limit")
    return number, seconds, "B" in flags.upper()


def signal_number(name: str, where: str) -> int:
    """A signal by number (10) or name (USR1, SIGUSR1, usr1), as scancel -s and sbatch --signal take it."""
    name = name.strip().upper()
    try:
        number = int(name) if name.isdigit() else int(signal.Signals["SIG" + name.removeprefix("SIG")])
    except KeyError:
        raise DirectiveError(f"{where}: {name or '(empty)'} is not a signal name or number") from None
    if not 0 < number < signal.NSIG:
        raise DirectiveError(f"{where}: signal {number} cannot be sent (1 to {signal.NSIG - 1})")
    return number


def yes_no(options: dict[str, str], key: str) -> bool:
    """An option that takes yes or no (--kill-on-invalid-dep=yes), absent meaning no."""
    value = options.get(key, "no").strip().lower()
    if value not in ("yes", "no"):
        raise DirectiveError(f"--{key}={options[key]}: use yes or no")
    return value == "yes"


def hms(seconds: float | None) -> str:
    """A time limit as Slurm prints it in messages: H:MM:SS, or UNLIMITED."""
    if seconds is None:
        return "UNLIMITED"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def scontrol_time(seconds: float | None) -> str:
    """A time as scontrol prints RunTime=, TimeLimit= and TimeMin=: [D-]HH:MM:SS (01:00:00, 1-00:00:00), or
    UNLIMITED; squeue's TIME column is shorter (M:SS), and hal show and hal update quote scontrol's."""
    if seconds is None:
        return "UNLIMITED"
    days, s = divmod(max(int(seconds), 0), 86400)
    text = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{days}-{text}" if days else text
