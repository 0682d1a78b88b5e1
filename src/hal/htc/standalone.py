"""The standalone session manager (`hal session-manager`, `python -m hal.htc.server`): its own engine over this
machine's CPUs, applications and journal in a state folder, stopped by SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
from pathlib import Path

from hal.htc.address import default_address
from hal.htc.app import AppRegistry
from hal.htc.engine_slots import standalone_provider
from hal.htc.server import Server


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="HAL session manager (HTC), standalone with its own engine")
    ap.add_argument("--address", default=default_address(), help="Unix socket path or tcp://host:port")
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="CPUs this manager may hand out as slots")
    ap.add_argument("--mem-mb", type=int, default=0, help="memory to hand out (0: do not account memory)")
    ap.add_argument("--state-dir", default=None, help="where registered applications are kept")
    args = ap.parse_args(argv)
    state = Path(args.state_dir) if args.state_dir else Path(default_address()).parent
    state.mkdir(parents=True, exist_ok=True)
    if not args.address.startswith("tcp://"):
        Path(args.address).parent.mkdir(parents=True, exist_ok=True)
    registry = AppRegistry(state / "apps.json")
    provider = standalone_provider(args.cpus, args.mem_mb or (1 << 40))
    server = Server(args.address, registry, provider, journal=state / "htc-journal.db")
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "stopping", True))
    print(f"hal session manager listening on {args.address} with {args.cpus} cpus", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
