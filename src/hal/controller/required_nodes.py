"""`hal update ReqNodeList=` checked as -w is at submission (option_values.node_count): every listed node is in the
job's allocation, so a list longer than the job's node count is refused in Slurm's words. QA: the update was
accepted and the job then ran on a subset of its "required" nodes (-w turned into "any of these")."""

from __future__ import annotations

import dataclasses
from typing import Any

from hal.controller.contracts import SubmitError
from hal.controller.directives import JobRequest


def required_nodes(req: JobRequest, attrs: dict[str, Any], ref: str) -> JobRequest:
    """``req`` (a pending job's updated request) when its list fits its NumNodes; one without a node count (sized
    by its tasks) takes the list's length, as -w alone gives at submission. Checked only when the update changes
    the list or the count, so a record kept from before the check is not refused for another field's update."""
    listed = len(req.node_names)
    if not listed or ("node_names" not in attrs and "nodes" not in attrs):
        return req
    if req.nodes is None:
        return dataclasses.replace(req, nodes=listed)
    if listed > req.nodes:
        raise SubmitError(
            f"job {ref}: Node count specification invalid: ReqNodeList names {listed} nodes, more than NumNodes="
            f"{req.nodes} allows; give NumNodes={listed} too or list fewer nodes"
        )
    return req
