"""HTC sessions beside `hal server` belong to the token's user (QA HIGH): bob's token attached alice's recoverable
session, took her results and closed it, and opened sessions in her name, because the manager trusted the Unix user
every job runs as. Now the SDK shows the ticket GET /v1/htc gave it, and acts only on its own user's sessions; an
administrator's on any."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hal.htc.app import Application
from hal.htc.client import HtcClient
from tests.integration.livekit import LiveServer, register_app


def test_a_users_session_is_theirs_alone(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        register_app(server, "sq", "hal.htc.examples:square", max_instances=1)
        register_app(server, "secret", "hal.htc.examples:square", env={"DB_PASSWORD": "s3cr3t"})
        alice, bob = server.new_user("alice"), server.new_user("bob")
        with server.client(alice) as sdk:
            s = sdk.session("sq", slots=1, recoverable=True, name="hers")
            assert s.submit(3).result(timeout=60) == 9
            sid = s.id
            s.detach()
        with server.client(bob) as sdk:
            with pytest.raises(RuntimeError, match=r"user 'bob' may not act for user 'alice' \(only admin"):
                sdk.attach_session(sid)
            address = sdk._call("GET", "/v1/htc").json()["address"]
            with pytest.raises(RuntimeError, match=r"connect through hal\.client\.Client"):
                HtcClient(address, user="alice").session("sq")  # no ticket: no name taken on trust
            forged = ("alice", False, "0" * 64)
            with pytest.raises(RuntimeError, match="session ticket is not this server's"):
                HtcClient(address, user="alice", ticket=forged).session("sq")
            with sdk.session("sq", slots=1) as mine:  # his own still work
                assert list(mine.map([2])) == [4]
                listed = {r["session"] for r in sdk._htc().sessions()}  # over the socket, with his ticket
                assert mine.id in listed and sid not in listed  # QA: every user's were listed there
                bobs = server.cli("sessions", "--json", token=bob, check=True).stdout  # hal sessions: the same
                assert [r["session"] for r in json.loads(bobs)["sessions"]] == [mine.id]
                assert HtcClient(address).sessions() == []  # no ticket: nothing beside hal server
                bad = server.cli("sessions", token=bob + "x")  # QA: a revoked token was shown an empty list
                assert bad.returncode != 0 and "not authorized" in bad.stderr, bad.stderr
            his = sdk._htc()  # QA HIGH: a user's ticket registered apps, read their secrets and shut the manager down
            with pytest.raises(RuntimeError, match="only an administrator's ticket may register"):
                his.register(Application(name="sq", target="hal.htc.examples:sleep_ms"))
            with pytest.raises(RuntimeError, match="only an administrator's ticket may"):
                his.shutdown()
            assert [a.env for a in his.apps() if a.name == "secret"] == [{"DB_PASSWORD": "***"}]
        with server.client() as admin:  # an administrator may collect anyone's
            again = admin.attach_session(sid)
            assert again.collect(timeout=60) == {0: 9}
            again.detach()
        with server.client(alice) as sdk:
            again = sdk.attach_session(sid)
            assert again.collect(timeout=60) == {0: 9}
            again.close()
        with server.client() as admin:  # an administrator's ticket sees the values and may register
            assert [a.env for a in admin._htc().apps() if a.name == "secret"] == [{"DB_PASSWORD": "s3cr3t"}]
    finally:
        server.stop()
