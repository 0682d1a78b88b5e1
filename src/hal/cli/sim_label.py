"""The label a simulated run is shown and saved under: the policy and estimate, plus every setting that
differs from the defaults, so two runs that differ never share a label (default runs keep their old one)."""

from __future__ import annotations

from pathlib import Path

from hal.engine.profile import Profile


def run_label(
    pol: Profile,
    estimate: str,
    cluster: Path | None = None,
    *,
    whole_nodes: bool = False,
    gpus: bool = False,
    segment: bool = False,
    stretch: str | None = None,
) -> str:
    """``backfill:order[:sjf] est=E`` and, when not the default, the overrun correction (a profile's
    ``correction``), the placement options and the stretch model."""
    label = f"{pol.backfill}:{pol.order}" + (":sjf" if pol.backfill_order == "sjf" else "") + f" est={estimate}"
    label += f" correction={pol.correction}" if pol.correction != Profile().correction else ""
    label += f" reserve={pol.topology_reserve}" if pol.topology_reserve else ""
    label += f" place={pol.placement}" if cluster is not None else ""
    label += " whole-nodes" if whole_nodes else ""
    label += " gpus" if gpus else ""
    label += " segment" if segment else ""
    label += (" stretch" if stretch == "default" else f" stretch={stretch}") if stretch else ""
    return label
