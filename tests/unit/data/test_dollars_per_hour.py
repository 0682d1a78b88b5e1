"""What an hour of stage-in is worth in egress dollars is the site's choice, set in the cluster file's [data]."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hal.data.live_config import transfer_model
from hal.engine.plugins.locality import Locality
from hal.engine.plugins.score import PlacementWeights
from hal.engine.plugins.topology import TopologySelector
from hal.model.topology import Topology

PATHS = (("onprem", "r0"),) * 2 + (("cloud", "c0"),) * 2


def locality(table: dict[str, Any]) -> Locality:
    topo = Topology(("site", "rack"), PATHS)
    loc = Locality(TopologySelector(topo).index, transfer_model(table))
    loc.dataset("bucket", 1e11)  # 100 GB: $9 to take out of the cloud at $0.09/GB
    loc.add_storage_replica("bucket", "site", "cloud")
    return loc


def test_the_rate_turns_egress_dollars_into_seconds() -> None:
    base = {"bandwidth": ["10G", "1G", "1G"], "egress_per_gb": {"cloud": 0.09}}
    default, cheap_time = locality(base), locality({**base, "dollars_per_hour": 90})
    assert default.model.dollars_per_hour == 10.0 and cheap_time.model.dollars_per_hour == 90.0
    secs = default.node_costs(("bucket",)).seconds
    # on-premises nodes pay $9 of egress: 3,240 s at $10 an hour, 360 s at $90 an hour
    assert np.allclose(default.stage_seconds(("bucket",))[:2], secs[:2] + 3240)
    assert np.allclose(cheap_time.stage_seconds(("bucket",))[:2], secs[:2] + 360)
    assert np.allclose(default.stage_seconds(("bucket",))[2:], cheap_time.stage_seconds(("bucket",))[2:])


@pytest.mark.parametrize("rate", [0, -1, "10", True, float("inf"), float("nan")])
def test_a_rate_that_is_no_positive_number_is_refused(rate: object) -> None:
    with pytest.raises(ValueError, match=r"\[data\] dollars_per_hour is the egress dollars worth an hour"):
        transfer_model({"dollars_per_hour": rate})


def test_the_placement_table_points_at_the_data_table() -> None:
    with pytest.raises(ValueError, match=r"set it in the cluster file's \[data\] table"):
        PlacementWeights.from_mapping({"dollars_per_hour": 3})


def test_egress_priced_at_a_level_or_domain_the_topology_lacks_is_said() -> None:
    """QA: egress_level = "zone" on a cluster without one, or a label no domain has, started without a word."""
    from hal.data.live_config import check_egress

    assert check_egress(locality({"egress_per_gb": {"cloud": 0.09}})) == []
    said = check_egress(locality({"egress_per_gb": {"cloud": 0.09}, "egress_level": "zone"}))
    assert "egress_level = 'zone' is no level" in said[0] and "no egress is charged" in said[-1], said
    said = check_egress(locality({"egress_per_gb": {"moon": 0.09}}))
    assert len(said) == 1 and "egress_per_gb names 'moon', no site" in said[0] and "cloud, onprem" in said[0], said
