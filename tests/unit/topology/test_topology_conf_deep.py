"""A Switches= chain deeper than Python's recursion limit is refused with a message naming the line, not a
RecursionError traceback (review)."""

from __future__ import annotations

import pytest

from hal.topology_conf import TopologyConfError, parse_topology_conf


def test_a_chain_too_deep_to_follow_is_a_message() -> None:
    text = "SwitchName=s0 Nodes=n[0-3]\n" + "".join(f"SwitchName=s{i} Switches=s{i - 1}\n" for i in range(1, 3000))
    with pytest.raises(TopologyConfError, match="Switches= above 's0' nest too deep"):
        parse_topology_conf(text, [f"n{i}" for i in range(4)])
