"""`hal update`'s field names: scontrol's (any case) and the JobRequest attribute each sets, which change once a
job runs, and how a refusal names them (as the user typed them)."""

from __future__ import annotations

# scontrol's field names (any case) -> the JobRequest attribute they set
FIELDS = {
    "timelimit": "time_limit",
    "timemin": "time_min",  # --time-min (pending jobs: backfill reads it when it starts one)
    "jobname": "name",
    "name": "name",
    "comment": "comment",
    "requeue": "requeue",
    "partition": "partition",
    "qos": "qos",
    "account": "account",
    "nice": "nice",
    "starttime": "begin",
    "begintime": "begin",
    "dependency": "dependencies",
    "numnodes": "nodes",
    "minnodes": "nodes",
    "numtasks": "tasks",
    "features": "features",
    "constraint": "features",
    "reqnodelist": "node_names",
    "nodelist": "node_names",
    "excnodelist": "exclude_nodes",
    "arraytaskthrottle": "array_limit",
    "switches": "switches",  # Switches=N[@maxwait] (0: none)
    "topology": "topology",  # Topology=required=LEVEL|preferred=LEVEL (none: neither)
    "segment": "segment",
}
SPREAD = ("switches", "topology")  # fields that set several request attributes (a dict of them)
WHILE_RUNNING = {"time_limit", "name", "comment", "requeue", "array_limit"}  # a throttle is the array's
NAMES = {"time_limit": "TimeLimit", "name": "JobName", "comment": "Comment", "requeue": "Requeue"}
CAMEL = "TimeMin Partition QOS Account Nice StartTime Dependency NumNodes NumTasks Features ReqNodeList ExcNodeList"
SHOWN = {FIELDS[w.lower()]: w for w in f"{CAMEL} ArrayTaskThrottle Switches Topology Segment".split(" ")}  # as typed
