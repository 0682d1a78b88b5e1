"""The HTC wire: length-prefixed pickle frames over Unix or TCP sockets, and the message kinds.

Chosen on measurement (benchmarks/htc_transport.py, benchmarks/results/htc.md): a Unix socket with a
4-byte length prefix had the lowest ping-pong latency of pipes, asyncio streams and ZeroMQ, and batching
gives it ample throughput. Task inputs and outputs travel as opaque pickled bytes, so the session manager
never imports user code.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import pwd
import select
import socket
import struct
from typing import Any

HEADER = struct.Struct("!I")
MAX_FRAME = 1 << 31

# client -> manager
OPEN, TASKS, CANCEL, CLOSE, ATTACH, REGISTER, APPS, STATS, HOLD, SHUTDOWN, DETACH, AUTH = range(1, 13)
# manager -> client
OK, ERROR, RESULTS = 20, 21, 22
# worker -> manager
HELLO, DONE = 30, 31
# manager -> worker
BIND, RUN, STOP = 40, 41, 42

# task result status
S_OK, S_ERR, S_CANCELLED, S_LOST = 0, 1, 2, 3


def dumps(obj: object) -> bytes:
    return pickle.dumps(obj, protocol=5)


def make_socket(address: str) -> tuple[socket.socket, Any]:
    """``tcp://host:port`` or a Unix socket path."""
    if address.startswith("tcp://"):
        host, _, port = address[6:].rpartition(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        return sock, (host or "127.0.0.1", int(port))
    return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), address


def connect(address: str, timeout: float = 10.0) -> socket.socket:
    sock, target = make_socket(address)
    sock.settimeout(timeout)
    sock.connect(target)
    sock.settimeout(None)
    if sock.family == socket.AF_INET:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def listen(address: str) -> socket.socket:
    sock, target = make_socket(address)
    if sock.family == socket.AF_UNIX:
        if os.path.exists(address):
            os.unlink(address)
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(target)
    sock.listen(256)
    sock.setblocking(False)
    return sock


def _parse(buf: bytearray, out: list[Any]) -> int:
    """Decode every whole frame in ``buf``; return how many bytes were consumed."""
    pos, n = 0, len(buf)
    view = memoryview(buf)
    try:
        while n - pos >= 4:
            (size,) = HEADER.unpack_from(buf, pos)
            if size >= MAX_FRAME:
                raise ValueError(f"frame of {size} bytes is too large")
            if n - pos - 4 < size:
                break
            out.append(pickle.loads(view[pos + 4 : pos + 4 + size]))
            pos += 4 + size
    finally:
        view.release()
    return pos


class Conn:
    """A non-blocking peer for the manager's selector loop: buffered reads and writes."""

    __slots__ = ("rbuf", "sock", "wbuf")

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.rbuf = bytearray()
        self.wbuf = bytearray()

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> list[Any] | None:
        """Messages now readable; None when the peer closed."""
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            return None
        if not data:
            return None
        self.rbuf += data
        out: list[Any] = []
        used = _parse(self.rbuf, out)
        if used:
            del self.rbuf[:used]
        return out

    def send(self, msg: object) -> None:
        data = pickle.dumps(msg, protocol=5)
        self.wbuf += HEADER.pack(len(data))
        self.wbuf += data

    def flush(self) -> bool:
        """Write what the socket takes; True when everything went out."""
        while self.wbuf:
            try:
                sent = self.sock.send(self.wbuf)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                self.wbuf.clear()
                return True
            del self.wbuf[:sent]
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class Channel:
    """A blocking peer for clients and service instances; reads are buffered so one recv yields many frames."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()
        self._ready: list[Any] = []
        self._pos = 0

    def send(self, msg: object) -> None:
        data = pickle.dumps(msg, protocol=5)
        self.sock.sendall(HEADER.pack(len(data)) + data)

    def pending(self) -> bool:
        return self._pos < len(self._ready)

    def recv(self, timeout: float | None = None) -> Any:
        """The next message; raises EOFError when the peer is gone, TimeoutError after ``timeout``."""
        while self._pos >= len(self._ready):
            self._ready.clear()
            self._pos = 0
            if timeout is not None and not _readable(self.sock, timeout):
                raise TimeoutError
            try:
                data = self.sock.recv(1 << 20)
            except (ConnectionResetError, OSError) as exc:
                raise EOFError(str(exc)) from exc
            if not data:
                raise EOFError("peer closed the connection")
            self._buf += data
            used = _parse(self._buf, self._ready)
            if used:
                del self._buf[:used]
        msg = self._ready[self._pos]
        self._pos += 1
        return msg

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of a Unix socket's peer (SO_PEERCRED); None over TCP."""
    if sock.family != socket.AF_UNIX:
        return None
    _, uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return int(uid)


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _readable(sock: socket.socket, timeout: float) -> bool:
    """Whether ``sock`` has data (or its peer hung up) within ``timeout`` s. poll, not select: select() refuses
    descriptors above 1023, which a client process holding many files reaches ("filedescriptor out of range")."""
    if not hasattr(select, "poll"):  # not on Windows
        return bool(select.select([sock], [], [], timeout)[0])
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(max(0, math.ceil(timeout * 1000))))
