"""Where the session manager listens: HAL_HOME's socket, or a short stand-in when HAL_HOME is too deep."""

from __future__ import annotations

from pathlib import Path

from hal.htc import wire
from hal.htc.address import home_address


def test_deep_homes_get_a_short_socket_that_binds(tmp_path: Path) -> None:
    assert home_address(tmp_path) == str(tmp_path / "htc.sock")
    deep = tmp_path / ("d" * 90) / ("e" * 40)
    deep.mkdir(parents=True)
    address = home_address(deep)
    assert len(address) <= 100 and address == home_address(deep)  # stable: the CLI finds it again
    sock = wire.listen(address)
    sock.close()
    Path(address).unlink()
