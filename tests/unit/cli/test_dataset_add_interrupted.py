"""A `hal dataset add` interrupted (Ctrl-C) while the server reads the file says the server may still register the
dataset and how to see and undo it (QA: it exited 130 in silence, and the dataset appeared later)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_add_says_the_dataset_may_still_be_registered() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        accepted = threading.Event()
        held: list[socket.socket] = []

        def hold() -> None:  # a server still reading a large file: it answers nothing yet
            conn, _ = listener.accept()
            held.append(conn)
            accepted.set()

        threading.Thread(target=hold, daemon=True).start()
        env = {**os.environ, "HAL_URL": f"http://127.0.0.1:{listener.getsockname()[1]}", "HAL_TOKEN": "t"}
        cmd = [sys.executable, "-m", "hal", "dataset", "add", "big", "/data/big.bin"]
        proc = subprocess.Popen(  # SIGINT as a shell leaves it: pytest-xdist's workers ignore it, and so would ours
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint
        )
        try:
            assert accepted.wait(60), "the CLI never connected"
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
        finally:
            proc.kill()
            for conn in held:
                conn.close()
    said = " ".join(stderr.split())
    assert proc.returncode == 130, said
    assert "interrupted: the server may still be reading /data/big.bin and then register dataset big" in said
    assert "hal dataset rm big" in said and "Traceback" not in said
