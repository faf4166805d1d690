"""Where each market's sites can be: a generous latitude/longitude box per market (its footprint
plus about two degrees), used to flag a site whose coordinates are far from the market it sells
in (swapped or mistyped coordinates) instead of drawing it there silently.

The boxes are coarse on purpose: a site inside is not proven right, a site outside is surely wrong.
A market not listed here is not checked.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A latitude/longitude box in degrees (south, north, west, east)."""

    south: float
    north: float
    west: float
    east: float

    def holds(self, lat: float, lon: float) -> bool:
        """Return True when (lat, lon) lies inside the box."""
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def text(self) -> str:
        """Return the box as 'lat S..N, lon W..E'."""
        return f"lat {self.south:g}..{self.north:g}, lon {self.west:g}..{self.east:g}"


MARKET_BOXES = {
    "ERCOT": Box(23.5, 38.5, -108.5, -91.5),  # Texas
    "CAISO": Box(30.5, 44.0, -126.5, -112.0),  # California and the EIM footprint's core
    "PSCO": Box(35.0, 43.0, -111.0, -100.0),  # Colorado
    "EPEX": Box(34.0, 72.0, -26.0, 45.0),  # the European bidding zones
}


def market_region_problem(market: str | None, lat: float, lon: float) -> str | None:
    """Return why plottable (lat, lon) cannot belong to ``market`` ('far from its market ERCOT
    (lat ..)'), or None when it can or the market is not checked."""
    box = MARKET_BOXES.get((market or "").upper())
    if box is None or box.holds(lat, lon):
        return None
    return f"far from its market {market} (expected {box.text()})"
