"""Which transport carries HTC tasks between the session manager and service instances: measured, not guessed.

Each candidate runs an echo peer in a child process; we time (1) a one-message ping-pong (latency) and
(2) a stream of batches of 64 small pickled tasks echoed back (tasks/s). Run:
    .venv/bin/python benchmarks/htc_transport.py [--rounds 2000] [--batches 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import pickle
import socket
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

HEADER = struct.Struct("!I")


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _sock_send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(HEADER.pack(len(data)) + data)


def _sock_recv(sock: socket.socket) -> bytes:
    (n,) = HEADER.unpack(_recv_exact(sock, 4))
    return _recv_exact(sock, n)


def _echo_socket(fd: int, other: socket.socket) -> None:
    other.close()  # the parent's end, inherited by fork: without this the child never sees EOF
    sock = socket.socket(fileno=fd)
    try:
        while True:
            msg = pickle.loads(_sock_recv(sock))
            _sock_send(sock, pickle.dumps(msg, protocol=5))
    except EOFError:
        return


def _echo_pipe(conn: Connection, other: Connection) -> None:
    other.close()
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except EOFError:
        return


def _echo_zmq(addr: str) -> None:
    import zmq

    ctx = zmq.Context()
    s = ctx.socket(zmq.PAIR)
    s.connect(addr)
    while True:
        data = s.recv()
        if data == b"":
            break
        s.send(data)
    s.close(linger=0)
    ctx.term()


def _echo_asyncio(path: str) -> None:
    async def main() -> None:
        reader, writer = await asyncio.open_unix_connection(path)
        try:
            while True:
                head = await reader.readexactly(4)
                body = await reader.readexactly(HEADER.unpack(head)[0])
                writer.write(head + body)
                await writer.drain()
        except asyncio.IncompleteReadError:
            return

    asyncio.run(main())


def _measure(send: Callable[[bytes], None], recv: Callable[[], bytes], rounds: int, batches: int) -> dict[str, float]:
    one = pickle.dumps([(1, None)], protocol=5)
    for _ in range(200):
        send(one)
        recv()
    rtts = []
    for _ in range(rounds):
        t = time.perf_counter()
        send(one)
        pickle.loads(recv())
        rtts.append(time.perf_counter() - t)
    batch = [(i, None) for i in range(64)]
    window = 4
    t0 = time.perf_counter()
    for i in range(batches):
        send(pickle.dumps(batch, protocol=5))
        if i >= window:
            pickle.loads(recv())
    for _ in range(min(window, batches)):
        pickle.loads(recv())
    dt = time.perf_counter() - t0
    rtts.sort()
    return {
        "p50_us": rtts[len(rtts) // 2] * 1e6,
        "p99_us": rtts[int(len(rtts) * 0.99)] * 1e6,
        "tasks_s": batches * 64 / dt,
    }


def bench_socketpair(rounds: int, batches: int) -> dict[str, float]:
    a, b = socket.socketpair()
    p = mp.get_context("fork").Process(target=_echo_socket, args=(b.fileno(), a))
    p.start()
    b.close()
    out = _measure(lambda d: _sock_send(a, d), lambda: _sock_recv(a), rounds, batches)
    a.close()
    p.join()
    return out


def bench_pipe(rounds: int, batches: int) -> dict[str, float]:
    a, b = mp.Pipe()
    p = mp.get_context("fork").Process(target=_echo_pipe, args=(b, a))
    p.start()
    b.close()
    out = _measure(a.send_bytes, a.recv_bytes, rounds, batches)
    a.close()
    p.join()
    return out


def bench_zmq(rounds: int, batches: int) -> dict[str, float]:
    import zmq

    ctx = zmq.Context()
    s = ctx.socket(zmq.PAIR)
    addr = f"ipc://{tempfile.mkdtemp()}/z"
    s.bind(addr)
    p = mp.get_context("fork").Process(target=_echo_zmq, args=(addr,))
    p.start()
    out = _measure(s.send, s.recv, rounds, batches)
    s.send(b"")
    p.join()
    s.close(linger=0)
    ctx.term()
    return out


def bench_asyncio(rounds: int, batches: int) -> dict[str, float]:
    path = os.path.join(tempfile.mkdtemp(), "s")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    p = mp.get_context("fork").Process(target=_echo_asyncio, args=(path,))
    p.start()
    conn, _ = srv.accept()
    out = _measure(lambda d: _sock_send(conn, d), lambda: _sock_recv(conn), rounds, batches)
    conn.close()
    p.join()
    srv.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--batches", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cands: dict[str, Callable[[int, int], dict[str, float]]] = {
        "unix socketpair, length-prefixed pickle": bench_socketpair,
        "multiprocessing Pipe (send_bytes)": bench_pipe,
        "asyncio streams peer (unix socket)": bench_asyncio,
    }
    try:
        import zmq  # noqa: F401

        cands["ZeroMQ PAIR over ipc://"] = bench_zmq
    except ImportError:
        print("pyzmq not installed: skipping ZeroMQ")
    print("| transport | ping-pong p50 (us) | p99 (us) | batched echo (tasks/s) |")
    print("|---|---|---|---|")
    for name, fn in cands.items():
        runs = [fn(args.rounds, args.batches) for _ in range(args.runs)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"| {name} | {med['p50_us']:.0f} | {med['p99_us']:.0f} | {med['tasks_s']:,.0f} |")


if __name__ == "__main__":
    main()
