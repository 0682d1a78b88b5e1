"""QA: a node whose cache filesystem was smaller than [data] cache_bytes (vn002's cache a 40M tmpfs under
cache_bytes = "80M") got a 50 MB input on every stage-in retry; the job ended FAILED while vn000 was idle with
room, and each attempt first evicted vn002's other datasets though the input could not fit. Now the job's next
attempts exclude that node (as --exclude, kept across a restart) and it runs elsewhere, and nothing is evicted; a
job no node it may use could ever hold the inputs for fails at once, with the reason.

A real small filesystem: vn002's cache is a tmpfs mounted in a private mount namespace (``unshare``), where the
whole scenario runs as a child process with a real controller, local executor and catalog; skipped where
unprivileged namespaces are not allowed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from tests.clusters import switch_tree
from tests.integration.small_tmpfs import data_controller, result, small_tmpfs
from tests.integration.test_data_drain_limits import _wait as drain_wait
from tests.integration.test_data_stage_out import _over

MIB = 2**20
DATA = {"cache_bytes": "16M", "attempts": 1, "backoff": 0.01, "max_requeues": 2, "requeue_wait": 0.1}
ADMIN = Identity("root", admin=True)


def test_a_node_whose_disk_cannot_hold_the_inputs_is_avoided_and_keeps_its_data(tmp_path: Path) -> None:
    got = result(small_tmpfs(__file__, tmp_path, "vn002")("run"))
    first = got["first"]
    assert first["state"] == "PENDING" and first["restarts"] == 0, first  # no attempt used, not FAILED
    assert "cannot hold the job's inputs" in first["cause"] and "vn002 excluded for this job" in first["cause"], first
    nowhere = got["nowhere"]  # no node it may use could ever hold them: FAILED at once, with the reason
    assert nowhere["state"] == "FAILED" and nowhere["restarts"] == 0, nowhere
    assert "no other node the job may use can hold them" in nowhere["cause"], nowhere
    assert first["exclude"] == ["vn002"], first  # its ExcNodeList, in the stored request a restart reads
    assert got["filler_kept"], got  # vn002's other dataset was not evicted for a copy that could not land
    assert got["recovered_exclude"] == ["vn002"], got
    final = got["final"]
    assert final["state"] == "COMPLETED" and final["nodelist"] in ("vn000", "vn001"), final
    wide = got["wide"]  # a multi-node job: the node short of room is left out, the others kept
    assert "vn002 excluded for this job" in wide["cause"], wide
    assert wide["state"] == "COMPLETED" and wide["nodelist"] == "vn[000-001]", wide
    assert not got["drained"], got


# ---- the scenario, run inside the namespace -------------------------------------------------------------------


def _wait(check: Any, timeout: float = 30.0) -> bool:
    return drain_wait(check, timeout)


def _two_nodes(ctl: Controller, tmp: Path) -> dict[str, Any]:
    """A two-node job sent to vn001 and vn002 (vn000 busy): vn002 excluded, it runs on vn000 and vn001."""
    opts = {"nodelist": "vn000", "cpus-per-task": "2"}
    (busy,) = ctl.submit(build_request("#!/bin/sh\nsleep 60\n", opts, {}, str(tmp), 0), "bo").job_ids
    assert _wait(lambda: (ctl.store.get(busy) or {}).get("state") == "RUNNING")
    req = build_request("#!/bin/sh\ntrue\n", {"input-data": "big", "nodes": "2"}, {}, str(tmp), 0)
    (job,) = ctl.submit(req, "al").job_ids
    _wait(lambda: "excluded" in str((ctl.store.get(job) or {}).get("cause")) or job not in ctl.live)
    cause = str((ctl.store.get(job) or {}).get("cause"))
    ctl.cancel(str(busy), ADMIN)
    _wait(lambda: (ctl.store.get(job) or {}).get("state") in ("COMPLETED", "FAILED", "CANCELLED"))
    row = ctl.store.get(job) or {}
    return {"cause": cause, "state": row["state"], "nodelist": row["nodelist"]}


def _scenario(tmp: Path) -> dict[str, Any]:
    (tmp / "c.toml").write_text(switch_tree("three", "vn", 3, 2, "1G", 3))
    ctl, staging = data_controller(tmp, DATA, {"filler": 7 * MIB, "big": 10 * MIB})
    staging.stager.stage_in(0, ("filler",), ["vn002"])  # vn002 holds another dataset, evictable
    staging.stager.release(0)
    ctl.start()
    try:
        sleeps = [build_request("#!/bin/sh\nsleep 60\n", {"nodelist": n, "cpus-per-task": "2"}, {}, str(tmp), 0)
                  for n in ("vn000", "vn001")]  # fmt: skip
        busy = [ctl.submit(r, "bo").job_ids[0] for r in sleeps]
        assert _wait(lambda: all((ctl.store.get(j) or {}).get("state") == "RUNNING" for j in busy))
        req = build_request("#!/bin/sh\ntrue\n", {"input-data": "big"}, {}, str(tmp), 0)
        (job,) = ctl.submit(req, "al").job_ids
        _wait(lambda: "excluded" in str((ctl.store.get(job) or {}).get("cause")) or job not in ctl.live)
        row = ctl.store.get(job) or {}
        first = {"state": row["state"], "restarts": row["restarts"], "cause": row["cause"],
                 "exclude": json.loads(row["request"]).get("exclude_nodes")}  # fmt: skip
        only = {"input-data": "big", "exclude": "vn000,vn001"}  # vn002 is the one node it may use
        (alone,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", only, {}, str(tmp), 0), "al").job_ids
        _wait(_over(ctl, alone))
        row = ctl.store.get(alone) or {}
        nowhere = {"state": row["state"], "restarts": row["restarts"], "cause": row["cause"]}
        filler_kept = "filler" in staging.stager.caches["vn002"].entries and (tmp / "cache/vn002/filler").exists()
    finally:
        ctl.stop()
        staging.shutdown()
    ctl, staging = data_controller(tmp, DATA)  # a restart: the exclusion is read back from the stored request
    lv = ctl.live.get(job)
    recovered = list(lv.spec.exclude_nodes) if lv is not None else None
    ctl.start()
    try:
        for j in busy:
            if j in ctl.live:
                ctl.cancel(str(j), ADMIN)
        _wait(lambda: (ctl.store.get(job) or {}).get("state") in ("COMPLETED", "FAILED", "CANCELLED"))
        row = ctl.store.get(job) or {}
        final = {"state": row["state"], "nodelist": row["nodelist"], "cause": row["cause"]}
        wide = _two_nodes(ctl, tmp)
        drained = sorted(ctl.drained)
    finally:
        ctl.stop()
        staging.shutdown()
    return {"first": first, "nowhere": nowhere, "wide": wide, "filler_kept": filler_kept,
            "recovered_exclude": recovered, "final": final, "drained": drained}  # fmt: skip


if __name__ == "__main__":
    if sys.argv[2] == "probe":
        sys.exit(0)
    print(json.dumps(_scenario(Path(sys.argv[1]))))
