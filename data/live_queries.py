"""Read queries of the live pages: a site's output history from the 15-minute rollups."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Asset, TelemetryRollup


def site_output_history(session: Session, site_id: str | None, since: dt.datetime) -> list[tuple[dt.datetime, float]]:
    """Return [(bucket_start UTC, MW)] of summed mean power per 15-min bucket since ``since``.

    ``site_id`` None sums the whole fleet. Meters and transformers are left out (they double count).
    Buckets are labelled by their start; the latest bucket may be partial.
    """
    stmt = (
        select(TelemetryRollup.bucket_start, func.sum(TelemetryRollup.sum / TelemetryRollup.count))
        .join(Asset, Asset.id == TelemetryRollup.asset_id)
        .where(
            TelemetryRollup.resolution == "15min", TelemetryRollup.metric == "power_kw",
            TelemetryRollup.bucket_start >= since, Asset.kind.not_in(["meter", "transformer"]),
        )
        .group_by(TelemetryRollup.bucket_start)
        .order_by(TelemetryRollup.bucket_start)
    )
    if site_id is not None:
        stmt = stmt.where(Asset.site_id == site_id)
    return [(t, float(kw) / 1000.0) for t, kw in session.execute(stmt).all()]


def site_meta(session: Session) -> dict[str, dict]:
    """Return {site_id: {"n": name, "k": kind, "c": capacity MW, "mk": market, "nd": pricing node}}."""
    from data.models import Site

    return {
        r.id: {"n": r.name, "k": r.kind.value, "c": r.capacity_mw, "mk": r.market, "nd": r.pricing_node or ""}
        for r in session.execute(select(Site.id, Site.name, Site.kind, Site.capacity_mw, Site.market, Site.pricing_node))
    }
