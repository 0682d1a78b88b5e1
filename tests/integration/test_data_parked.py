"""A real server restarted on its cluster file less the [data] table: the queued jobs that read or write datasets
stay PENDING with reason NoDataPlane (held ones too, and a release keeps them waiting), as `hal queue` and `hal
show` say, and run after a restart with the data plane back (QA: they ended FAILED for good, "never ran: its
datasets need a data plane"); a running job with outputs ends FAILED as it ends (they can never be staged out),
and the restart with the data plane back keeps the output it wrote, said in its log and by `hal show` (QA: that
start deleted it from the node cache with the job's other leftovers)."""

from __future__ import annotations

from pathlib import Path

from hal.executors.hostlist import expand
from tests.integration.livekit import EXAMPLE, LiveServer, concurrently, finished, gated, show, submit, until_state


def _cluster(tmp_path: Path, data: bool) -> str:
    extra = f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\ncatalog = "{tmp_path}/catalog.json"\n'
    return EXAMPLE.read_text() + (extra if data else "")


def _restart(live: LiveServer, toml: str) -> None:
    live.kill()
    live.cluster.write_text(toml)
    live.start()


def test_queued_data_jobs_wait_out_a_restart_without_a_data_plane(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(_cluster(tmp_path, data=True))
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        (tmp_path / "small").write_text("small\n")
        with live.client() as c:  # the SDK: `hal dataset add` and `hal submit` are not the subject
            c.add_dataset("small", str(tmp_path / "small"), "origin")
        reader = submit(live, 'cat "$HAL_DATA/small"', hold=True, input_data="small", output="r.out")
        writer = submit(live, 'echo x > "$HAL_DATA/res"', hold=True, output_data="res")
        go = tmp_path / "go"  # it runs on across the restart, and ends once the new server has looked at the others
        running = submit(live, gated(go, 'echo x > "$HAL_DATA/late"'), output_data="late")
        until_state(live, running, "RUNNING")
        _restart(live, _cluster(tmp_path, data=False))
        for job in (reader, writer):
            rec = show(live, job)
            assert rec["state"] == "PENDING" and "this server has no data plane" in str(rec["cause"]), rec
        with live.client() as c:  # `hal release` was refused: "no longer pending (FAILED)"
            assert c.release(reader) == [int(reader)] and c.release(writer) == [int(writer)]
        queue, shown = concurrently(lambda: live.cli("queue", check=True), lambda: live.cli("show", reader, check=True))
        assert "(NoDataPlane)" in queue.stdout, queue.stdout
        said = " ".join(shown.stdout.split())
        assert "Reason=NoDataPlane" in said and "restores the [data] table in the cluster file" in said, said
        go.touch()
        assert finished(live, running) != "COMPLETED"
        ended = show(live, running)
        assert ended["state"] == "FAILED" and "outputs never staged out" in str(ended["cause"])
        assert not Path("/res").exists() or Path("/res").read_text() != "x\n"  # never run with an empty $HAL_DATA
        (node,) = expand(str(ended["nodelist"]))
        late = tmp_path / "cache" / node / ".jobs" / running / "late"
        _restart(live, _cluster(tmp_path, data=True))
        assert late.read_text() == "x\n"  # the user's only copy of it, never staged out
        said = live.log.read_text()
        assert f"job {running}: output 'late' never reached its destination" in said and str(late) in said, said
        assert f"(kept at {late})" in show(live, running)["stage_out"]["late"]
        assert finished(live, reader) == "COMPLETED" and finished(live, writer) == "COMPLETED"
        assert (live.work / "r.out").read_text() == "small\n"
        assert "Traceback" not in live.log.read_text()
    finally:
        live.stop()
