"""Underperformance of a site against its expected energy, for the ``underperformance`` rules.

No second definition: actual and expected energy per 15-min interval come from the performance
model (:func:`domain.performance.interval_frame` on the 15-min rollups, the figures of /performance
and ``GET /api/v1/kpis``), summed over the site's generating assets; the episodes come from the
anomaly detector (:func:`forecasting.anomaly.find_underperformance`). Intervals whose expectation
is below ``min_expected_pct`` of capacity (night for PV, calm for wind) are not judged.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
import polars as pl
from sqlalchemy.orm import Session

from data.performance_queries import rollup_frame, site_configs
from domain.performance import interval_frame
from forecasting.anomaly import find_underperformance
from forecasting.errors import ForecastInputError

INTERVAL = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class SiteEpisodes:
    """A site's episodes over the period read, and whether the last one reaches the newest interval."""

    site_id: str
    capacity_kwh: float  # per 15-min interval
    episodes: pd.DataFrame  # columns of find_underperformance
    newest: dt.datetime | None  # newest interval with an expectation
    reason: str = ""  # why no detection ran (too little history), else ""

    @property
    def ongoing(self) -> pd.Series | None:
        """Return the episode that ends at the newest judged interval (the condition is true now), or None."""
        if self.episodes.empty or self.newest is None:
            return None
        last = self.episodes.iloc[-1]
        return last if pd.Timestamp(last["end"]) >= pd.Timestamp(self.newest) - pd.Timedelta(INTERVAL) else None


def site_energy_series(session: Session, site_id: str, start: dt.datetime, end: dt.datetime
                       ) -> tuple[pd.Series, pd.Series, float]:
    """Return (actual kWh, expected kWh, capacity kWh) per 15-min interval of the site's generating assets.

    Intervals with an expectation are in the series (interval start, UTC); actual is NaN where no
    asset reported power (missing data, not zero: the detector leaves it out).
    """
    configs = site_configs(session, [site_id])
    if not configs or not configs[0].assets:
        empty = pd.Series(dtype=float)
        return empty, empty, 0.0
    config = configs[0]
    frame = interval_frame(configs, rollup_frame(session, list(config.sensor_asset_ids), start, end), start, end)
    per = (frame.filter(pl.col("expected_kwh").is_not_null())
           .group_by("bucket_start").agg(
               actual=pl.when(pl.col("has_power").any()).then(pl.col("actual_kwh").filter(pl.col("has_power")).sum()),
               expected=pl.col("expected_kwh").sum())
           .sort("bucket_start"))
    index = pd.DatetimeIndex(per["bucket_start"].to_list())
    capacity_kwh = sum(a.capacity_kw for a in config.assets) * INTERVAL.total_seconds() / 3600.0
    return (pd.Series([math.nan if v is None else v for v in per["actual"].to_list()], index=index, dtype=float),
            pd.Series(per["expected"].to_list(), index=index, dtype=float), capacity_kwh)


def site_episodes(session: Session, site_id: str, start: dt.datetime, end: dt.datetime, *, window: int, k: float,
                  min_shortfall_pct: float, min_expected_pct: float) -> SiteEpisodes:
    """Run the anomaly detector on the site's [start, end) intervals; return its episodes."""
    actual, expected, capacity = site_energy_series(session, site_id, start, end)
    if capacity <= 0 or actual.empty:
        return SiteEpisodes(site_id, capacity, _no_episodes(), None, "no generating asset with data and expectation")
    producing = expected[expected >= capacity * min_expected_pct / 100.0]
    newest = producing.index[-1].to_pydatetime() if len(producing) else None
    try:
        episodes = find_underperformance(actual, expected, capacity, window=window, k=k,
                                         min_shortfall=min_shortfall_pct / 100.0,
                                         min_expected=min_expected_pct / 100.0)
    except ForecastInputError as exc:
        return SiteEpisodes(site_id, capacity, _no_episodes(), newest, str(exc))
    return SiteEpisodes(site_id, capacity, episodes, newest)


def _no_episodes() -> pd.DataFrame:
    return pd.DataFrame(columns=["start", "end", "intervals", "mean_shortfall_pct", "energy_lost", "z"])
