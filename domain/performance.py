"""Performance over a period, from 15-minute rollups (never raw rows), in polars.

The one model behind the /performance page, the site page's period tiles and ``GET /api/v1/kpis``:

1. **Weather per site and interval**: the mean over the site's sensors of each 15-min mean of
   ``irradiance_wm2`` (GHI), ``temperature_c`` and ``wind_speed_ms``; a rollup with a reading
   outside :mod:`domain.quality`'s plausible ranges is a sensor fault and leaves the interval
   without that reading (counted as excluded); so does a stuck reading (:func:`domain.quality.flag_rollups`).
2. **Expected energy per generating asset and interval** (:mod:`domain.expected`): PV = GHI
   transposed to the plant's plane (fixed or single-axis) through PVWatts with the plant's DC/AC
   and losses, times the inverter's AC kW; wind = the turbine's reference curve at its own wind
   speed (else the site's) and the interval's air density. x 0.25 h.
3. **Actual energy** = the power rollup's ``energy_kwh`` (:mod:`domain.energy`: exported part, so
   negative night power counts 0).
4. **Span**: a bucket's energy holds the segments that START in it, so with sparse points (the
   hourly back-fill) one bucket holds a whole hour. Such a bucket stands for ``span`` intervals
   (up to the next bucket with power, when that gap is bridged: ``energy_max_gap_s``); its
   expected and reference energies cover the same span (from the bucket's weather), and the
   buckets it covers are ``covered`` (counted in it, not missing). Regular data: span 1.
5. **Interval state** (an interval = one asset x 15 min, interval start): ``no data`` (no power
   rollup), ``covered``, ``excluded`` (sensor fault), ``no expectation`` (no weather, no reference
   curve), else ``curtailed`` (``curtailment_kw`` mean > 1 % of capacity), ``no resource``
   (expected <= 1 %), ``running`` (actual > 1 %), ``down``.

The KPIs (:mod:`domain.performance_kpis`) aggregate the frame this module returns.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from domain.energy import max_gap_s as max_gap
from domain.expected import (
    PvPlant,
    ReferenceCurve,
    air_density,
    pv_cell_temperature_series,
    pv_expected_fraction_series,
    pv_poa_series,
)
from domain.quality import flag_rollups, power_fault_expr
from live.physics import PV_GAMMA_PDC

INTERVAL = dt.timedelta(minutes=15)
INTERVAL_H = 0.25
WEATHER = ("irradiance_wm2", "temperature_c", "wind_speed_ms")
STATE_THRESHOLD = 0.01  # share of an asset's capacity: below it, no resource / not producing / not curtailed
STATES = ("running", "curtailed", "down", "no resource", "no expectation", "excluded", "covered", "no data")
ROLLUP_SCHEMA: dict[str, pl.DataType] = {
    "asset_id": pl.String(), "metric": pl.String(), "bucket_start": pl.Datetime("us", "UTC"), "count": pl.Int64(),
    "sum": pl.Float64(), "min": pl.Float64(), "max": pl.Float64(), "energy_kwh": pl.Float64()}


@dataclass(frozen=True)
class AssetConfig:
    """A generating asset of a site: kind 'inverter' or 'turbine' (others have no expectation)."""

    asset_id: str
    kind: str
    capacity_kw: float
    curve: ReferenceCurve | None = None


@dataclass(frozen=True)
class SiteConfig:
    """What the period model needs to know of a site: its generating assets and plant configuration."""

    site_id: str
    name: str
    kind: str
    capacity_mw: float
    latitude: float | None
    longitude: float | None
    assets: tuple[AssetConfig, ...]
    pv: PvPlant | None = None
    altitude_m: float = 0.0
    sensor_asset_ids: tuple[str, ...] = field(default_factory=tuple)  # every asset of the site (weather comes from any)


def empty_rollups() -> pl.DataFrame:
    """Return an empty rollup frame with the columns the model reads."""
    return pl.DataFrame(schema=ROLLUP_SCHEMA)


def interval_starts(start: dt.datetime, end: dt.datetime) -> pl.Series:
    """Return the 15-min interval starts in [start, end) (start floored to the quarter hour), UTC."""
    first = start.astimezone(dt.UTC).replace(second=0, microsecond=0)
    first -= dt.timedelta(minutes=first.minute % 15)
    if first >= end:
        return pl.Series("bucket_start", [], dtype=pl.Datetime("us", "UTC"))
    last = end.astimezone(dt.UTC) - dt.timedelta(microseconds=1)
    return pl.datetime_range(first, last, INTERVAL, eager=True, time_unit="us", time_zone="UTC").alias("bucket_start")


def _site_weather(rollups: pl.DataFrame, sites: list[SiteConfig]) -> pl.DataFrame:
    """Return (site_id, bucket_start, ghi, temp_c, wind_ms, weather_faults) from the sites' weather rollups."""
    owners = pl.DataFrame({"asset_id": [a for s in sites for a in s.sensor_asset_ids],
                           "site_id": [s.site_id for s in sites for _ in s.sensor_asset_ids]},
                          schema={"asset_id": pl.String, "site_id": pl.String})
    weather = (rollups.filter(pl.col("metric").is_in(WEATHER) & (pl.col("count") > 0))
               .join(owners, on="asset_id").with_columns(fault=pl.col("bad")))
    good = weather.filter(~pl.col("fault")).with_columns(mean=pl.col("sum") / pl.col("count"))
    means = good.group_by("site_id", "bucket_start").agg(
        *[pl.col("mean").filter(pl.col("metric") == m).mean().alias(m) for m in WEATHER])
    faults = weather.group_by("site_id", "bucket_start").agg(weather_faults=pl.col("fault").sum())
    return faults.join(means, on=["site_id", "bucket_start"], how="left")


def _pv_site_frame(site: SiteConfig, weather: pl.DataFrame) -> pl.DataFrame:
    """Return (bucket_start, poa_wm2, cell_c, pv_fraction) of a PV plant per interval with measured GHI."""
    assert site.pv is not None
    w = weather.filter((pl.col("site_id") == site.site_id) & pl.col("irradiance_wm2").is_not_null())
    if w.is_empty():
        return pl.DataFrame(schema={"bucket_start": pl.Datetime("us", "UTC"), "poa_wm2": pl.Float64,
                                    "cell_c": pl.Float64, "pv_fraction": pl.Float64})
    mid_s = (w["bucket_start"].dt.epoch("s").to_numpy().astype(float) + INTERVAL.total_seconds() / 2)
    temp = w["temperature_c"].fill_null(float("nan")).to_numpy().astype(float)
    poa = pv_poa_series(site.pv, w["irradiance_wm2"].to_numpy().astype(float), mid_s)
    return pl.DataFrame({"bucket_start": w["bucket_start"], "poa_wm2": poa,
                         "cell_c": pv_cell_temperature_series(poa, temp),
                         "pv_fraction": pv_expected_fraction_series(site.pv, poa, temp)})


def _asset_grid(sites: list[SiteConfig], starts: pl.Series) -> pl.DataFrame:
    """Return every (site, generating asset, interval) of the period with the asset's static facts."""
    rows = []
    for s in sites:
        inverter_kw = sum(a.capacity_kw for a in s.assets if a.kind == "inverter")
        for a in s.assets:
            dc = s.pv.dc_kw * a.capacity_kw / inverter_kw if a.kind == "inverter" and s.pv and inverter_kw > 0 else 0.0
            rows.append((s.site_id, a.asset_id, a.kind, float(a.capacity_kw), float(dc),
                         a.kind == "turbine" and a.curve is None))
    assets = pl.DataFrame(rows, schema={"site_id": pl.String, "asset_id": pl.String, "kind": pl.String,
                                        "capacity_kw": pl.Float64, "dc_kw": pl.Float64, "no_curve": pl.Boolean},
                          orient="row")
    return assets.join(starts.to_frame(), how="cross")


def interval_frame(sites: list[SiteConfig], rollups: pl.DataFrame, start: dt.datetime, end: dt.datetime,
                   max_gap_s: float | None = None) -> pl.DataFrame:
    """Return one row per generating asset and 15-min interval of [start, end), with its state.

    Columns: site_id, asset_id, kind, capacity_kw, dc_kw, bucket_start, has_power, actual_kwh,
    expected_kwh (null without an expectation), reference_kwh and reference_t_kwh (PV: P0 x POA
    / 1 kW/m2 x 0.25 h, the second x (1 + gamma (T_cell - 25 degC))), curtailed, fault, state.
    ``rollups`` is a 15-min rollup frame (:data:`ROLLUP_SCHEMA`) of the sites' assets; ``span``
    the intervals a row's energy stands for; ``max_gap_s`` the energy rule's bridged gap
    (:func:`domain.energy.max_gap_s` by default).
    """
    starts = interval_starts(start, end)
    grid = _asset_grid(sites, starts)
    rollups = rollups.filter((pl.col("bucket_start") >= starts.min()) & (pl.col("bucket_start") < end)) \
        if len(starts) else rollups.clear()
    if "bad" not in rollups.columns:
        rollups = flag_rollups(rollups, {a.asset_id: a.capacity_kw for s in sites for a in s.assets})
    weather = _site_weather(rollups, sites)
    power = (rollups.filter((pl.col("metric") == "power_kw") & (pl.col("count") > 0))
             .select("asset_id", "bucket_start", power_min_kw="min", power_max_kw="max", power_bad="bad",
                     energy=pl.col("energy_kwh").fill_null(0.0)))
    curtail = (rollups.filter((pl.col("metric") == "curtailment_kw") & (pl.col("count") > 0))
               .select("asset_id", "bucket_start", curtail_kw=pl.col("sum") / pl.col("count")))
    own_wind = (rollups.filter((pl.col("metric") == "wind_speed_ms") & (pl.col("count") > 0))
                .filter(~pl.col("bad")).select("asset_id", "bucket_start", own_wind=pl.col("sum") / pl.col("count")))
    frame = (grid.join(power, on=["asset_id", "bucket_start"], how="left")
             .join(curtail, on=["asset_id", "bucket_start"], how="left")
             .join(own_wind, on=["asset_id", "bucket_start"], how="left")
             .join(weather, on=["site_id", "bucket_start"], how="left"))
    pv_parts = [_pv_site_frame(s, weather).with_columns(site_id=pl.lit(s.site_id))
                for s in sites if s.pv is not None and any(a.kind == "inverter" for a in s.assets)]
    pv = pl.concat(pv_parts) if pv_parts else pl.DataFrame(
        schema={"bucket_start": pl.Datetime("us", "UTC"), "poa_wm2": pl.Float64, "cell_c": pl.Float64,
                "pv_fraction": pl.Float64, "site_id": pl.String})
    frame = frame.join(pv, on=["site_id", "bucket_start"], how="left").sort("asset_id", "bucket_start")
    frame = frame.with_columns(expected_kw=_expected_kw(frame, sites),
                               span=_span(max_gap(None) if max_gap_s is None else max_gap_s))
    return _with_state(frame)


def _span(gap_s: float) -> pl.Expr:
    """Return the intervals each row's energy stands for (see the module docstring): k, 0 (covered) or 1."""
    power_at = pl.when(pl.col("energy").is_not_null()).then(pl.col("bucket_start"))
    prev_power = power_at.shift(1).forward_fill().over("asset_id")
    next_power = power_at.shift(-1).backward_fill().over("asset_id")
    ahead = (next_power - pl.col("bucket_start")).dt.total_seconds()
    bridged = (next_power - prev_power).dt.total_seconds() <= gap_s
    return (pl.when(pl.col("energy").is_not_null())
            .then(pl.when(ahead.is_not_null() & (ahead <= gap_s)).then(ahead // int(INTERVAL.total_seconds()))
                  .otherwise(1))
            .when(prev_power.is_not_null() & next_power.is_not_null() & bridged).then(0)
            .otherwise(1).cast(pl.Int64))


def _expected_kw(frame: pl.DataFrame, sites: list[SiteConfig]) -> pl.Series:
    """Return expected kW per row: PV fraction x AC kW for inverters, the reference curve for turbines."""
    out = np.full(frame.height, np.nan)
    kinds = frame["kind"].to_numpy()
    inverter = kinds == "inverter"
    out[inverter] = (frame["pv_fraction"].fill_null(float("nan")).to_numpy()[inverter]
                     * frame["capacity_kw"].to_numpy()[inverter])
    groups: dict[tuple[ReferenceCurve, float], list[str]] = {}  # turbines sharing a curve and an altitude
    for s in sites:
        for a in s.assets:
            if a.kind == "turbine" and a.curve is not None:
                groups.setdefault((a.curve, s.altitude_m), []).append(a.asset_id)
    if groups:
        speed = frame["own_wind"].fill_null(frame["wind_speed_ms"]).fill_null(float("nan")).to_numpy()
        temp = frame["temperature_c"].fill_null(float("nan")).to_numpy()
        for (curve, altitude), ids in groups.items():
            sel = frame["asset_id"].is_in(ids).to_numpy()
            out[sel] = curve.power(speed[sel], air_density(temp[sel], altitude))
    return pl.Series("expected_kw", out).fill_nan(None)


def _with_state(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with actual/expected/reference energies, the fault flag and the interval state."""
    cap = pl.col("capacity_kw")
    threshold = STATE_THRESHOLD * cap
    frame = frame.with_columns(
        has_power=pl.col("energy").is_not_null(),
        actual_kwh=pl.col("energy").fill_null(0.0).clip(lower_bound=0.0),
        expected_kwh=pl.col("expected_kw") * INTERVAL_H * pl.col("span"),
        fault=(power_fault_expr().fill_null(False) | pl.col("power_bad").fill_null(False)
               | ((pl.col("weather_faults").fill_null(0) > 0) & pl.col("expected_kw").is_null())),
        curtailed=pl.col("curtail_kw").fill_null(0.0) > threshold,
        reference_kwh=pl.col("dc_kw") * pl.col("poa_wm2").fill_null(0.0) / 1000.0 * INTERVAL_H * pl.col("span"),
    ).with_columns(
        reference_t_kwh=pl.col("reference_kwh") * (1.0 + PV_GAMMA_PDC * (pl.col("cell_c").fill_null(25.0) - 25.0)),
        state=pl.when(~pl.col("has_power") & (pl.col("span") == 0)).then(pl.lit("covered"))
        .when(~pl.col("has_power")).then(pl.lit("no data"))
        .when(pl.col("fault")).then(pl.lit("excluded"))
        .when(pl.col("expected_kw").is_null()).then(pl.lit("no expectation"))
        .when(pl.col("curtailed")).then(pl.lit("curtailed"))
        .when(pl.col("expected_kw") <= threshold).then(pl.lit("no resource"))
        .when(pl.col("actual_kwh") / (INTERVAL_H * pl.col("span")) > threshold).then(pl.lit("running"))
        .otherwise(pl.lit("down")),
    )
    return frame.select("site_id", "asset_id", "kind", "capacity_kw", "dc_kw", "no_curve", "bucket_start", "span",
                        "has_power", "actual_kwh", "expected_kwh", "reference_kwh", "reference_t_kwh", "poa_wm2",
                        "curtailed", "fault", "state")
