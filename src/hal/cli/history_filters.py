"""sacct's selections that `hal history` makes on the records it got: --name, -r/--partition, -N/--nodelist,
-A/--account and -q/--qos, each a comma-separated list (a node list also as a hostlist, vn[000-003]). Scripts
that ran `sacct --name=train -r gpu` met "No such option" (QA)."""

from __future__ import annotations

from typing import Any

from hal.executors.hostlist import expand


def _names(text: str | None) -> set[str] | None:
    return None if text is None else {p.strip() for p in text.split(",") if p.strip()}


def narrowed(
    recs: list[dict[str, Any]],
    name: str | None = None,
    partition: str | None = None,
    nodelist: str | None = None,
    account: str | None = None,
    qos: str | None = None,
) -> list[dict[str, Any]]:
    """The records every given selection keeps; a job asking for several partitions matches any of them, a job
    that ran on several nodes matches when one of them is listed (sacct -N: jobs that ran on those nodes)."""
    names, parts, accounts, qoses = _names(name), _names(partition), _names(account), _names(qos)
    nodes = set(expand(nodelist)) if nodelist else None

    def keep(j: dict[str, Any]) -> bool:
        if names is not None and j.get("name") not in names:
            return False
        if parts is not None and not parts & set(str(j.get("partition") or "").split(",")):
            return False
        if accounts is not None and j.get("account") not in accounts:
            return False
        if qoses is not None and (j.get("qos") or "") not in qoses:
            return False
        return nodes is None or bool(j.get("nodelist") and nodes & set(expand(j["nodelist"])))

    return [j for j in recs if keep(j)]
