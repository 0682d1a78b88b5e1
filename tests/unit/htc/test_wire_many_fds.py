"""A client process holding many files: a Channel whose socket's descriptor is above 1023 waited with select(),
which refuses it ("filedescriptor out of range in select()"; seen when a test process had leaked descriptors)."""

from __future__ import annotations

import os
import resource
import socket

import pytest

from hal.htc.wire import Channel


def test_a_channel_above_descriptor_1023_waits_and_reads() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1100:
        pytest.skip(f"needs room for 1,100 open files (hard limit {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1100) if hard == resource.RLIM_INFINITY else hard, hard))
    spare = []
    try:
        while not spare or spare[-1] < 1030:
            spare.append(os.open(os.devnull, os.O_RDONLY))
        a, b = socket.socketpair()
        assert a.fileno() > 1023
        chan, peer = Channel(a), Channel(b)
        with pytest.raises(TimeoutError):
            chan.recv(timeout=0.05)
        peer.send({"hello": 1})
        assert chan.recv(timeout=5.0) == {"hello": 1}
        a.close()
        b.close()
    finally:
        for fd in spare:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
