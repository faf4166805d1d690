"""Read queries of the live pages: a site's output history from the 15-minute rollups."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.fleet import site_power_filter
from data.models import Asset, Site, TelemetryRollup
from domain.kinds import GENERATING_ASSET_KINDS


def site_output_history(session: Session, site_id: str | None, since: dt.datetime,
                        visible: frozenset[str] | set[str] | None) -> list[tuple[dt.datetime, float]]:
    """Return [(bucket_start UTC, MW)] of summed mean power per 15-min bucket since ``since``.

    ``site_id`` None sums the whole fleet's generating assets; a site sums the assets whose power is
    its power (:func:`domain.kinds.counts_as_site_power`: a substation's transformers). Meters never
    add to generation. ``visible`` (None: every site) limits the sum to a caller's sites. Buckets are labelled by their start; the latest bucket may be partial.
    """
    power = Asset.kind.in_(sorted(GENERATING_ASSET_KINDS)) if site_id is None else site_power_filter()
    stmt = (
        select(TelemetryRollup.bucket_start, func.sum(TelemetryRollup.sum / TelemetryRollup.count))
        .join(Asset, Asset.id == TelemetryRollup.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .where(
            TelemetryRollup.resolution == "15min", TelemetryRollup.metric == "power_kw",
            TelemetryRollup.bucket_start >= since, power,
        )
        .group_by(TelemetryRollup.bucket_start)
        .order_by(TelemetryRollup.bucket_start)
    )
    if site_id is not None:
        stmt = stmt.where(Asset.site_id == site_id)
    if visible is not None:
        stmt = stmt.where(Asset.site_id.in_(sorted(visible)))
    return [(t, float(kw) / 1000.0) for t, kw in session.execute(stmt).all()]


def site_meta(session: Session, visible: frozenset[str] | set[str] | None) -> dict[str, dict]:
    """Return {site_id: {"n": name, "k": kind, "c": capacity MW, "mk": market, "nd": pricing node}}.

    ``visible`` (required, so a caller's scope cannot be forgotten) limits the sites to those ids;
    None means every site (:attr:`security.scope.SiteScope.site_ids`).
    """
    from data.models import Site

    stmt = select(Site.id, Site.name, Site.kind, Site.capacity_mw, Site.market, Site.pricing_node)
    if visible is not None:
        stmt = stmt.where(Site.id.in_(sorted(visible)))
    return {
        r.id: {"n": r.name, "k": r.kind.value, "c": r.capacity_mw, "mk": r.market, "nd": r.pricing_node or ""}
        for r in session.execute(stmt)
    }
