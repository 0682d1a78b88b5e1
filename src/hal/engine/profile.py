"""Which plugins run at which point, with their arguments: a profile, read from TOML or built in code."""

from __future__ import annotations

import math
import tomllib
from contextlib import suppress
from dataclasses import dataclass, field, fields, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, get_type_hints

from hal.engine.api import QueueSort
from hal.engine.plugins.f1 import F1, F1Args
from hal.engine.plugins.fcfs import Fcfs, FcfsArgs
from hal.engine.plugins.multifactor import Multifactor, MultifactorArgs
from hal.engine.plugins.multifactor import number as _number
from hal.engine.plugins.score import PlacementWeights
from hal.engine.plugins.sjf import Sjf, SjfArgs
from hal.engine.plugins.tuned import Tuned, TunedArgs
from hal.engine.plugins.unicep import Unicep, UnicepArgs
from hal.engine.plugins.wfp3 import Wfp3, Wfp3Args
from hal.engine.predict.correct import RULES
from hal.textfile import BOM

ORDERS: dict[str, tuple[type[Any], type[Any]]] = {
    "fcfs": (Fcfs, FcfsArgs),
    "sjf": (Sjf, SjfArgs),
    "f1": (F1, F1Args),
    "wfp3": (Wfp3, Wfp3Args),
    "unicep": (Unicep, UnicepArgs),
    "multifactor": (Multifactor, MultifactorArgs),
    "tuned": (Tuned, TunedArgs),
}
BACKFILLS = ("none", "easy", "conservative")
BACKFILL_ORDERS = ("queue", "sjf")
PLACEMENTS = ("firstfit", "bestfit", "topology")  # topology: TopologySelector on the cluster file's tree


def _finite(value: float) -> bool:
    """Not inf or NaN; an int too large for a float (TOML reads 1 followed by 400 zeros as one) is not finite either."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _check_placement_table(table: object, nested: bool) -> None:
    """Beside ``[scheduler]`` the ``placement`` slot holds only the weights table; without it, the placement's
    name or that table. ``[[placement]]`` (an array of tables) or a value there was silently ignored (QA)."""
    if table is None or isinstance(table, dict) or (not nested and not _tables(table)):
        return  # absent, the table, or (top level) the name: checked as a name by Profile
    got = "[[placement]], an array of tables" if _tables(table) else repr(table)
    where = " (the placement's name goes under [scheduler])" if isinstance(table, str) else ""
    raise ValueError(
        f"[placement] must be one table of weights ([placement] with name = value lines, e.g. fragmentation = "
        f"0.5), not {got}{where}"
    )


def _tables(value: object) -> bool:
    """A TOML array of tables (``[[name]]``)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _load_entry_points() -> None:
    """Third-party queue orders register under the entry-point group ``hal.plugins``."""
    for ep in entry_points(group="hal.plugins"):
        plugin = ep.load()
        ORDERS.setdefault(ep.name, (plugin, getattr(plugin, "Args", dict)))


@dataclass(frozen=True, slots=True)
class Profile:
    """A scheduling policy: queue order, backfilling, candidate order for backfill, node placement."""

    order: str = "fcfs"
    backfill: str = "easy"
    backfill_order: str = "queue"
    placement: str = "firstfit"
    order_args: dict[str, Any] = field(default_factory=dict)
    correction: str = "reqtime"
    half_life: float = 7 * 86400.0
    charge_period: float = 300.0  # s between charges of running jobs' usage (Slurm's PriorityCalcPeriod); 0: each cycle
    topology_reserve: str = ""  # leaf-aware EASY reservation with placement "topology", e.g. "wait=3600,depth=3"
    max_switch_wait: float = 300.0  # s: caps --switches=N@maxwait (Slurm's SchedulerParameters=max_switch_wait)
    estimate: str = ""  # the runtime predictions a tuned order's weights were fitted on (hal tune writes it)
    billing_weights: str = ""  # Slurm's TRESBillingWeights for fair share, "CPU=1,GRES/gpu=8" (engine/billing.py)
    placement_weights: PlacementWeights = field(default_factory=PlacementWeights)  # the file's [placement] table

    def __post_init__(self) -> None:
        self._check_key_types()
        if self.order not in ORDERS:
            _load_entry_points()
        if self.order not in ORDERS:
            raise ValueError(f"unknown queue order {self.order!r}; known: {sorted(ORDERS)}")
        for value, allowed, what in (
            (self.backfill, BACKFILLS, "backfill"),
            (self.backfill_order, BACKFILL_ORDERS, "backfill order"),
            (self.placement, PLACEMENTS, "placement"),
        ):
            if value not in allowed:
                raise ValueError(f"unknown {what} {value!r}; choose one of {list(allowed)}")
        if not (_number(self.max_switch_wait) and 0 <= self.max_switch_wait < float("inf")):
            raise ValueError(f"max_switch_wait must be a number of seconds >= 0, not {self.max_switch_wait!r}")
        if not (_number(self.half_life) and 0 < self.half_life < float("inf")):
            raise ValueError(
                f"half_life must be a number of seconds > 0 (604800 for Slurm's 7-0), not {self.half_life!r}"
            )
        if not (_number(self.charge_period) and 0 <= self.charge_period < float("inf")):
            raise ValueError(
                f"charge_period must be a number of seconds >= 0 (300 for Slurm's PriorityCalcPeriod of 5 minutes; "
                f"0: every cycle), not {self.charge_period!r}"
            )
        if self.correction not in RULES:
            raise ValueError(f"unknown correction {self.correction!r}; choose one of {list(RULES)}")
        if self.estimate:
            from hal.engine.predict.registry import PREDICTORS

            if self.estimate not in PREDICTORS:
                raise ValueError(f"unknown estimate {self.estimate!r}; choose one of {sorted(PREDICTORS)}")
        if not isinstance(self.billing_weights, str):
            raise ValueError(f'billing_weights is a text such as "CPU=1.0,GRES/gpu=8", not {self.billing_weights!r}')
        from hal.engine.billing import parse_weights

        parse_weights(self.billing_weights)  # refused at load, naming the item
        if not isinstance(self.topology_reserve, str):
            raise ValueError(f'topology_reserve is a text such as "wait=3600,depth=3", not {self.topology_reserve!r}')
        self._check_arg_types()
        if self.topology_reserve:
            if self.placement != "topology":
                raise ValueError("topology_reserve needs placement 'topology'")
            if self.backfill != "easy":  # it plans the EASY head's nodes; other passes would ignore it
                raise ValueError(
                    f"topology_reserve is an EASY reservation; it needs backfill 'easy', not {self.backfill!r}"
                )
            from hal.engine.plugins.leaf_reserve import reserve_args  # numpy and the selector: only when asked

            reserve_args(self.topology_reserve)

    def _check_key_types(self) -> None:
        """Every key has its TOML type before any value is looked at: a list or a table where a name belongs
        ended in a traceback (unhashable type: 'list'), an array for order_args in 'not iterable' (QA)."""
        if not isinstance(self.order, str):
            _load_entry_points()
        texts = {
            "order": sorted(ORDERS),
            "backfill": list(BACKFILLS),
            "backfill_order": list(BACKFILL_ORDERS),
            "placement": list(PLACEMENTS),
            "correction": list(RULES),
        }
        for key, allowed in texts.items():
            if not isinstance(getattr(self, key), str):
                raise ValueError(f"{key} must be a text, one of {allowed}, not {getattr(self, key)!r}")
        if not isinstance(self.estimate, str):
            raise ValueError(
                f'estimate must be a text naming a runtime predictor (e.g. "last2"), not {self.estimate!r}'
            )
        if not isinstance(self.order_args, dict):
            raise ValueError(
                f"order_args must be a table ([order_args] with name = value lines), not {self.order_args!r}"
            )

    def _check_arg_types(self) -> None:
        """The order's arguments have the types its dataclass declares: a text or a list where a weight
        belongs would only fail inside a scheduling pass, over and over (unknown names: ``make_order``)."""
        args_cls = ORDERS[self.order][1]
        if not hasattr(args_cls, "__dataclass_fields__"):
            return
        hints = get_type_hints(args_cls)
        for key, value in self.order_args.items():
            want = hints.get(key)
            ok = (
                isinstance(value, bool) if want is bool
                else _number(value) and _finite(value) if want is float
                else isinstance(value, int) and not isinstance(value, bool) if want is int
                else True
            )  # fmt: skip
            if not ok:
                kind = "true or false" if want is bool else "a number" if want is float else "a whole number"
                raise ValueError(f"{self.order} argument {key} must be {kind}, not {value!r}")
        with suppress(TypeError):  # a required argument missing: make_order says which
            # the order's own value checks (multifactor: max_age > 0, bounded weights) at load, naming the key
            args_cls(**{k: v for k, v in self.order_args.items() if k in hints})

    def make_order(self) -> QueueSort:
        cls, args_cls = ORDERS[self.order]
        known = {f.name for f in fields(args_cls)} if hasattr(args_cls, "__dataclass_fields__") else set()
        unknown = set(self.order_args) - known
        if unknown:
            raise ValueError(f"{self.order} has no arguments {sorted(unknown)}; it takes {sorted(known)}")
        order: QueueSort = cls(args_cls(**self.order_args))
        return order

    @staticmethod
    def read(path: Path, has_tree: bool, base: Profile | None = None) -> Profile:
        """A profile file, for a cluster with or without a topology tree: a file that does not say where to
        place jobs places them on the tree when there is one (as the default profile does), so a profile from
        `hal tune` does not silently turn topology placement (and --switches/--segment) off. With ``base`` (the
        server's default profile), every key the file leaves out is the base's: a file setting only
        max_switch_wait turned the server's multifactor order into fcfs (QA)."""
        try:
            text = path.read_text(encoding="utf-8").removeprefix(BOM)  # as an editor on Windows may save it
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the profile {path}: {exc}") from None
        try:
            profile = Profile.from_toml(text, base)
            sched = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from None
        except ValueError as exc:  # a value's error names the file, as an unknown argument's does (QA)
            raise ValueError(f"{path}: {exc}") from None
        if has_tree and not isinstance(sched.get("scheduler", sched).get("placement", {}), str):
            profile = replace(profile, placement="topology")
        if "placement" in sched and isinstance(sched["placement"], dict) and profile.placement != "topology":
            raise ValueError(  # they weigh the topology selector's candidates: elsewhere they would do nothing
                f'{path}: the [placement] weights score topology placement; they need placement = "topology", '
                f"not {profile.placement!r}, and topology placement needs a cluster file with a topology (--cluster)"
            )
        try:  # its order and arguments checked now: the server logged a profile as loaded, then refused it (QA)
            profile.make_order()
            return profile.tuned_checked()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None

    def tuned_checked(self) -> Profile:
        """A user's profile: order 'tuned' without its weights would run as plain shortest-first (the weights'
        defaults), which is not what anyone tuned; the engine itself accepts it (tests sweep every order)."""
        if self.order == "tuned" and not self.order_args:
            raise ValueError(
                "order 'tuned' needs the weights hal tune found: hal tune TRACE --train START:COUNT --profile-out "
                "FILE gives a profile with them"
            )
        return self

    @staticmethod
    def from_toml(text: str, base: Profile | None = None) -> Profile:
        """The profile a TOML text gives; the keys it leaves out are ``base``'s (the built-in defaults without
        one). The base's order arguments stay only with its order: they mean nothing to another one. A
        ``[placement]`` table weighs the placement score (score.PlacementWeights); it was silently ignored (QA)."""
        data = tomllib.loads(text.removeprefix(BOM))
        nested = "scheduler" in data  # asked once: a flat file's keys are copied below, without its [placement]
        sched = data.get("scheduler", data)
        if not isinstance(sched, dict):
            raise ValueError(f"scheduler must be a table ([scheduler] with name = value lines), not {sched!r}")
        table = data.get("placement")
        _check_placement_table(table, nested=nested)
        weights = PlacementWeights.from_mapping(table) if isinstance(table, dict) else None
        if not nested and weights is not None:  # the table, not the placement's name (the copy was then taken
            sched = {k: v for k, v in data.items() if k != "placement"}  # for a [scheduler] table, QA)
        allowed = {f.name for f in fields(Profile)} - {"placement_weights"}
        unknown = set(sched) - allowed - {"order_args"}
        if unknown:
            raise ValueError(f"unknown profile keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        if nested and set(data) - {"scheduler", "order_args", "placement"}:
            extra = sorted(set(data) - {"scheduler", "order_args", "placement"})
            raise ValueError(f"unknown profile tables or keys {extra}; beside [scheduler] a profile takes [placement]")
        given = "order_args" in sched or "order_args" in data
        raw: Any = sched.get("order_args", data.get("order_args", {}))
        args = dict(raw) if isinstance(raw, dict) else raw  # anything else: refused by the type check
        values: dict[str, Any] = {k: v for k, v in sched.items() if k in allowed and k != "order_args"}
        if weights is not None:
            values["placement_weights"] = weights
        if base is None:
            return Profile(order_args=args, **values)
        if not given and values.get("order", base.order) == base.order:
            args = dict(base.order_args)
        return replace(base, order_args=args, **values)

    @staticmethod
    def server_default(has_tree: bool) -> Profile:
        """What `hal server` schedules with when no profile says otherwise: Slurm's multifactor priority, and
        placement on the cluster's tree when it describes one (so --switches/--segment work)."""
        return Profile(order="multifactor", placement="topology" if has_tree else "firstfit")

    @staticmethod
    def parse(policy: str) -> Profile:
        """``easy:sjf`` style names used by ``hal compare``: backfill, order, optional backfill order."""
        parts = policy.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"policy {policy!r} is not BACKFILL:ORDER[:BACKFILL_ORDER], e.g. easy:fcfs")
        backfill_order = parts[2] if len(parts) == 3 else "queue"
        return Profile(order=parts[1], backfill=parts[0], backfill_order=backfill_order)
