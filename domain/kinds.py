"""Which asset kinds generate and which only meter, and which site kinds generate.

A meter or transformer (and a substation site, which holds only those) measures the flow of the
plants behind it: it is compared against generation, never added to it.
"""
from __future__ import annotations

GENERATING_ASSET_KINDS: frozenset[str] = frozenset({"inverter", "turbine", "battery"})
METERING_ASSET_KINDS: frozenset[str] = frozenset({"meter", "transformer"})
METERING_SITE_KINDS: frozenset[str] = frozenset({"substation"})


def _value(kind: object) -> str:
    return str(getattr(kind, "value", kind))


def is_generating_asset(kind: object) -> bool:
    """Return True if an asset of ``kind`` (str or enum) produces power counted as generation."""
    return _value(kind) in GENERATING_ASSET_KINDS


def is_generating_site(kind: object) -> bool:
    """Return True if a site of ``kind`` (str or enum) generates (a substation only meters)."""
    return _value(kind) not in METERING_SITE_KINDS


def counts_as_site_power(site_kind: object, asset_kind: object) -> bool:
    """Return True if the asset's power is the site's power figure.

    A generating site: its generating assets. A substation: its transformers' flow (its revenue
    meter measures the same flow again, so it is left out). Never added to fleet generation.
    """
    if is_generating_site(site_kind):
        return is_generating_asset(asset_kind)
    return _value(asset_kind) == "transformer"
