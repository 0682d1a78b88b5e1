"""-p a,b: a job runs in exactly one of its partitions, on that partition's nodes only, as Slurm runs it (QA: a
`-p small,all -N 3` job ran "in small" on a node only `all` has). The engine places it in each partition in turn
and the controller names the one whose nodes it got; both take them in this order."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence


def in_order(listed: str, tiers: Mapping[str, int]) -> list[str]:
    """The partitions of ``listed`` ("a,b") in the order a job tries them: the highest PriorityTier first, as Slurm
    considers higher-priority partitions first, then as the user listed them."""
    names = list(dict.fromkeys(p for p in listed.split(",") if p))
    return sorted(names, key=lambda p: -tiers.get(p, 0))  # stable: the user's order within a tier


def holding(listed: str, tiers: Mapping[str, int], members: Mapping[str, Collection[str]], nodes: Sequence[str]) -> str:
    """The partition of ``listed`` a job on ``nodes`` runs in: the first (``in_order``) that has every one of
    them; the first listed when none has (a node list from before this rule: it names some partition)."""
    order = in_order(listed, tiers)
    for name in order:
        have = set(members.get(name, ()))
        if have.issuperset(nodes):
            return name
    return order[0] if order else listed
