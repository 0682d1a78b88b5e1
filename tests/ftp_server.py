"""A real FTP server (pyftpdlib on 127.0.0.1) serving a folder to anonymous users with every write permission, for
the tests of FTP sources and destinations."""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # pyftpdlib 2 still runs on asyncore and asynchat
    warnings.simplefilter("ignore", DeprecationWarning)
    pytest.importorskip("pyftpdlib")
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.servers import FTPServer

__all__ = ["DTPHandler", "ftp_server"]


@contextlib.contextmanager
def ftp_server(root: Path, poll: float = 0.1, **handler: Any) -> Iterator[str]:
    """Serve ``root`` until the block ends; yields its URL. ``handler``: FTPHandler settings (a dtp_handler)."""
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(str(root), perm="elradfmwMT")
    settings = {"authorizer": authorizer, "banner": "hal test", **handler}
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    server = FTPServer(("127.0.0.1", 0), type("Handler", (FTPHandler,), settings))
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": poll}, daemon=True)
    thread.start()
    try:
        yield f"ftp://127.0.0.1:{server.socket.getsockname()[1]}"
    finally:
        server.close_all()
        thread.join(5)
