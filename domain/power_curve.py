"""Measured power curve per turbine, IEC 61400-12-1 style, from 15-minute rollups.

Method of bins: each interval's mean wind speed is normalised to the reference air density,
V_n = V (rho / 1.225)^(1/3) (rho from the interval's air temperature and the site's altitude,
:func:`domain.expected.air_density`), and sorted into 0.5 m/s bins centred on multiples of
0.5 m/s; a bin's point is the mean V_n and the mean power of its intervals; a bin with fewer than
:data:`MIN_PER_BIN` intervals is not drawn (IEC asks for 3 x 10 min per bin; here 3 x 15 min).

Filters (an interval left out is counted under its reason):
``out of range`` (:mod:`domain.quality`: out-of-range or stuck wind, power or temperature),
``curtailed`` (curtailment_kw mean > 1 % of rating), ``stopped`` (power <= 1 % of rating with the
wind above cut-in + 1 m/s), ``icing`` (air temperature <= 2 degC and power under half the
reference curve at that speed, wind above cut-in + 1 m/s).

Deviation: per bin, 100 x (measured - reference) / reference where the reference is over 5 % of
rating; a bin of at least :data:`MIN_PER_BIN` intervals deviating by more than
:data:`DEVIATION_FLAG_PCT` is flagged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from domain.expected import ReferenceCurve, air_density
from live.physics import AIR_DENSITY, CUT_IN_MS

BIN_MS = 0.5
MIN_PER_BIN = 3
DEVIATION_FLAG_PCT = 10.0
FILTERS = ("out of range", "curtailed", "stopped", "icing")


@dataclass(frozen=True)
class MeasuredCurve:
    """A turbine's measured curve: bins (speed_ms, power_kw, n, reference_kw, deviation_pct, flagged), the kept
    intervals (speed_norm_ms, power_kw) for a scatter, and how many intervals each filter removed."""

    asset_id: str
    rating_kw: float
    bins: pl.DataFrame
    points: pl.DataFrame
    filtered: dict[str, int]
    reference: str  # 'declared', 'generic' or 'none'

    def power_at(self, low_ms: float, high_ms: float) -> pl.DataFrame:
        """Return the bins whose centre lies in [low_ms, high_ms]."""
        return self.bins.filter(pl.col("speed_bin_ms").is_between(low_ms, high_ms))


def measured_curve(asset_id: str, rating_kw: float, curve: ReferenceCurve | None, flagged: pl.DataFrame,
                   altitude_m: float = 0.0, site_temperature: pl.DataFrame | None = None) -> MeasuredCurve:
    """Return the :class:`MeasuredCurve` of one turbine from flagged 15-min rollups (:func:`domain.quality.flag_rollups`).

    ``flagged`` holds the turbine's rows (wind_speed_ms, power_kw, optional temperature_c and
    curtailment_kw); ``site_temperature`` (bucket_start, temperature_c) is used where the turbine
    has no thermometer of its own.
    """
    mine = flagged.filter(pl.col("asset_id") == asset_id)

    def metric(name: str, alias: str) -> pl.DataFrame:
        return (mine.filter(pl.col("metric") == name)
                .select("bucket_start", pl.when(pl.col("bad")).then(None).otherwise(pl.col("sum") / pl.col("count")).alias(alias),
                        pl.col("bad").alias(f"{alias}_bad")))

    frame = metric("wind_speed_ms", "ws").join(metric("power_kw", "kw"), on="bucket_start", how="inner")
    frame = frame.join(metric("temperature_c", "own_t"), on="bucket_start", how="left")
    if site_temperature is not None:
        frame = frame.join(site_temperature.rename({"temperature_c": "site_t"}), on="bucket_start", how="left")
    else:
        frame = frame.with_columns(site_t=pl.lit(None, dtype=pl.Float64))
    curtail = mine.filter(pl.col("metric") == "curtailment_kw").select("bucket_start", curt=pl.col("sum") / pl.col("count"))
    frame = frame.join(curtail, on="bucket_start", how="left").with_columns(t=pl.col("own_t").fill_null(pl.col("site_t")))
    ws = frame["ws"].fill_null(float("nan")).to_numpy()
    kw = frame["kw"].fill_null(float("nan")).to_numpy()
    temp = frame["t"].fill_null(float("nan")).to_numpy()
    ref = curve.power(ws) if curve is not None else np.full(len(ws), np.nan)
    bad = (frame["ws_bad"].fill_null(False) | frame["kw_bad"].fill_null(False) | frame["own_t_bad"].fill_null(False)).to_numpy()
    bad |= np.isnan(ws) | np.isnan(kw)
    curtailed = ~bad & (frame["curt"].fill_null(0.0).to_numpy() > 0.01 * rating_kw)
    windy = ws > CUT_IN_MS + 1.0
    stopped = ~bad & ~curtailed & windy & (kw <= 0.01 * rating_kw)
    icing = ~bad & ~curtailed & ~stopped & windy & (temp <= 2.0) & (kw < 0.5 * np.nan_to_num(ref, nan=np.inf))
    keep = ~(bad | curtailed | stopped | icing)
    density = air_density(temp, altitude_m)
    v_norm = ws * (density / AIR_DENSITY) ** (1.0 / 3.0)
    points = pl.DataFrame({"bucket_start": frame["bucket_start"].filter(pl.Series(keep)), "speed_norm_ms": v_norm[keep],
                           "power_kw": kw[keep]})
    bins = _bins(points, rating_kw, curve)
    return MeasuredCurve(asset_id, rating_kw, bins, points,
                         {"out of range": int(bad.sum()), "curtailed": int(curtailed.sum()), "stopped": int(stopped.sum()),
                          "icing": int(icing.sum())}, "none" if curve is None else curve.source)


def _bins(points: pl.DataFrame, rating_kw: float, curve: ReferenceCurve | None) -> pl.DataFrame:
    """Return the 0.5 m/s bins of ``points`` with at least :data:`MIN_PER_BIN` intervals, against the reference."""
    bins = (points.with_columns(speed_bin_ms=(pl.col("speed_norm_ms") / BIN_MS).round(0) * BIN_MS)
            .group_by("speed_bin_ms").agg(speed_ms=pl.col("speed_norm_ms").mean(), power_kw=pl.col("power_kw").mean(),
                                          n=pl.len())
            .filter(pl.col("n") >= MIN_PER_BIN).sort("speed_bin_ms"))
    if curve is None or bins.is_empty():
        return bins.with_columns(reference_kw=pl.lit(None, dtype=pl.Float64), deviation_pct=pl.lit(None, dtype=pl.Float64),
                                 flagged=pl.lit(False))
    reference = curve.power(bins["speed_ms"].to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = np.where(reference > 0.05 * rating_kw, 100.0 * (bins["power_kw"].to_numpy() - reference) / reference,
                             np.nan)
    return bins.with_columns(reference_kw=pl.Series(reference), deviation_pct=pl.Series(deviation).fill_nan(None)).with_columns(
        flagged=(pl.col("deviation_pct").abs() > DEVIATION_FLAG_PCT).fill_null(False))
