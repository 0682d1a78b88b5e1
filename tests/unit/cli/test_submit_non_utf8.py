"""QA F2: non-UTF-8 bytes in hal submit's environment, directory or options: no UnicodeEncodeError traceback."""

from __future__ import annotations

import base64
import os
from typing import Any

import httpx
import pytest

from hal.cli.submit import job_environment
from hal.client import Client
from hal.controller.directives import build_request
from hal.controller.option_values import DirectiveError


def test_non_utf8_variables_are_left_out_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    bad = os.fsdecode(b"caf\xe9")
    env = job_environment({"QABAD": bad, bad: "x", "PWD": bad, "OK": "fine", "HAL_TOKEN": "secret"})
    assert env == {"OK": "fine"}
    said = " ".join(capsys.readouterr().err.split())
    assert "environment variable QABAD is not valid UTF-8" in said
    assert "environment variable caf\\xe9 is not valid UTF-8" in said
    assert "PWD" not in said  # the job's shell sets it; its directory goes as raw bytes


def test_the_client_sends_a_non_utf8_directory_as_raw_bytes() -> None:
    sent: list[Any] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(201, json={"job_id": 1})

    c = Client("http://hal.invalid", "t")
    c._http = httpx.Client(base_url=c.url, transport=httpx.MockTransport(answer))
    c.submit(wrap="true", workdir=os.fsdecode(b"/tmp/caf\xe9"))
    body = httpx.Response(200, content=sent[0]).json()
    assert base64.b64decode(body["workdir_bytes"]) == b"/tmp/caf\xe9"
    with pytest.raises(ValueError, match=r"options.job-name is not valid UTF-8 text"):
        c.submit(wrap="true", workdir="/tmp", options={"job-name": os.fsdecode(b"n\xe9")})
    assert len(sent) == 1


def test_mem_options_in_build_request() -> None:
    with pytest.raises(DirectiveError, match="mutually exclusive"):
        build_request("#!/bin/sh\ntrue\n", {"mem": "1G", "mem-per-cpu": "1G"}, {}, "/tmp", 0.0)
    req = build_request("#!/bin/sh\n#SBATCH --mem=2G\ntrue\n", {"mem-per-cpu": "100M"}, {}, "/tmp", 0.0)
    assert req.mem_per_task_mb == 100
