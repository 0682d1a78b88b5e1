"""A drain naming nodes that do not exist lists the first five and says how many more (QA: vn008 and vn009 of
vn[000-009] were left out without a word)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.drain import drain
from tests.unit.controller.test_test_only_nodes import controller


def test_unknown_nodes_beyond_five_are_counted(tmp_path: Path) -> None:
    with controller(tmp_path) as ctl:
        with pytest.raises(SubmitError, match=r"no such node\(s\): gpu09, gpu10, gpu11, gpu12, gpu13 and 2 more$"):
            drain(ctl, "gpu[01-15]", "x", Identity("root", admin=True))
        with pytest.raises(SubmitError, match=r"no such node\(s\): gpu09$"):
            drain(ctl, "gpu[08-09]", "x", Identity("root", admin=True))
