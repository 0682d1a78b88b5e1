"""The kept-output sweep never deletes an output a restart has still to stage out (review: the cache folder
watcher starts with the data plane, before ``resume`` marks those outputs as being staged out; a pass in between
found a finished job with no output being staged out and removed the file, never sent)."""

from __future__ import annotations

from pathlib import Path

from hal.controller.store import Store, sqlite_url
from hal.data.kept_sweep import sweep_kept
from tests.integration.test_data_stage_out import _controller, _stranded_in_stage_out, _until


def test_an_output_a_restart_is_to_stage_out_survives_the_sweep(tmp_path: Path) -> None:
    writer, _ = _stranded_in_stage_out(tmp_path)  # its stage-out cut by a stopping server
    store = Store(sqlite_url(tmp_path / "hal.db"))
    with store.engine.begin() as conn:  # ended COMPLETED with its output unsettled: the next start sends it
        store.update_job(conn, writer, {"state": "COMPLETED"})
    store.close()
    again, resumed = _controller(tmp_path)
    resumed.stager.keep_failed_outputs = 0.001
    (held,) = (tmp_path / "cache").glob(f"*/.jobs/{writer}/held")
    assert sweep_kept(resumed, again) == 0 and held.exists(), "swept before resume() marked it to stage out"
    resumed.resumed.set()  # even past resume: no event settles it, so it is no failed output past its window
    assert sweep_kept(resumed, again) == 0 and held.exists()
    resumed.resumed.clear()
    assert resumed.resume(again, since=0.0)["outputs"] == 1
    again.start()
    try:
        assert resumed.outputs is not None
        _until(lambda: resumed.outputs.wait(0.1) and (again.store.get(writer) or {}).get("state") != "STAGE_OUT")
    finally:
        again.stop()
        resumed.shutdown()
    assert (tmp_path / "out" / str(writer) / "held").read_text() == "kept\n"
