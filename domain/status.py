"""Site status: the statuses a rule really produces, their severity order, and the one rule.

Rules (thresholds are settings, see :mod:`core.settings`):

* ``no data``   - the site never reported power;
* ``offline``   - its newest power point is older than ``offline_after_s`` (every asset silent);
* ``stale``     - its newest power point is older than ``stale_after_s``;
* ``producing`` - output / capacity >= ``producing_min_fraction``;
* ``idle``      - reporting, below that fraction (night, calm, a battery charging or at rest).
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Literal, get_args

from core.settings import Settings, get_settings


class SiteStatus(str, Enum):
    """A site's status; the value is the text shown and pushed."""

    producing = "producing"
    idle = "idle"
    stale = "stale"
    offline = "offline"
    no_data = "no data"


STATUSES: tuple[str, ...] = tuple(s.value for s in SiteStatus)
# the same names as a type, for request models (checked against the enum below)
StatusName = Literal["producing", "idle", "stale", "offline", "no data"]
assert get_args(StatusName) == STATUSES, "StatusName must list SiteStatus"
# most severe first: a group of sites shows the most severe status among them
STATUS_ORDER: tuple[str, ...] = ("offline", "stale", "no data", "idle", "producing")
REPORTING_STATUSES: frozenset[str] = frozenset({"producing", "idle"})


def stale_after(settings: Settings | None = None) -> dt.timedelta:
    """Return the staleness threshold as a timedelta."""
    return dt.timedelta(seconds=(settings or get_settings()).stale_after_s)


def site_status(output_mw: float | None, capacity_mw: float, last_update: dt.datetime | None, now: dt.datetime,
                settings: Settings | None = None) -> SiteStatus:
    """Return the status of a site from its output now, capacity and newest power timestamp."""
    settings = settings or get_settings()
    if last_update is None:
        return SiteStatus.no_data
    age_s = (now - last_update).total_seconds()
    if age_s > settings.offline_after_s:
        return SiteStatus.offline
    if age_s > settings.stale_after_s:
        return SiteStatus.stale
    if capacity_mw > 0 and (output_mw or 0.0) / capacity_mw >= settings.producing_min_fraction:
        return SiteStatus.producing
    return SiteStatus.idle


def status_constants(settings: Settings | None = None) -> dict:
    """Return the status constants the browser takes from the server (statuses, order, stale_after_s)."""
    settings = settings or get_settings()
    return {"statuses": list(STATUSES), "status_order": list(STATUS_ORDER), "stale_after_s": settings.stale_after_s,
            "offline_after_s": settings.offline_after_s, "reporting_statuses": sorted(REPORTING_STATUSES)}
