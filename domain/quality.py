"""Which stored 15-minute means a KPI may stand on: physically plausible ranges per metric.

Ingest rejects values outside the acceptance ranges of :mod:`ingest.metrics`; these ranges are
tighter, what a working sensor at a plant can report (the -273.2 degC and -92 degC readings of
La Haute Borne's temperature sensor are faults, not weather). A rollup row whose min or max lies
outside them is a sensor fault: its interval is excluded from the KPIs and counted as excluded.
"""
from __future__ import annotations

import polars as pl

# (low, high) of a plausible reading; power-like metrics are per kW of the asset's capacity
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "irradiance_wm2": (-10.0, 1500.0),
    "temperature_c": (-45.0, 60.0),
    "wind_speed_ms": (0.0, 50.0),
}
PLAUSIBLE_POWER_PER_KW: tuple[float, float] = (-0.2, 1.2)


def fault_expr() -> pl.Expr:
    """Return a boolean polars expression over a rollup frame (metric, min, max[, capacity_kw]): True = sensor fault.

    A weather metric is faulty outside :data:`PLAUSIBLE`; ``power_kw`` outside
    :data:`PLAUSIBLE_POWER_PER_KW` x capacity (when the frame carries ``capacity_kw``); a non-finite
    min or max is a fault whatever the metric.
    """
    expr = pl.lit(False)
    for metric, (low, high) in PLAUSIBLE.items():
        expr = expr | ((pl.col("metric") == metric) & ((pl.col("min") < low) | (pl.col("max") > high)))
    return expr | ~pl.col("min").is_finite() | ~pl.col("max").is_finite()


def power_fault_expr() -> pl.Expr:
    """Return True where a power rollup (mean_kw, capacity_kw) is outside the plausible share of capacity."""
    low, high = PLAUSIBLE_POWER_PER_KW
    cap = pl.col("capacity_kw")
    return (cap > 0) & ((pl.col("power_min_kw") < low * cap) | (pl.col("power_max_kw") > high * cap))


STUCK_MIN_RUN = 4  # consecutive 15-min buckets of one identical, flat reading (an hour): a frozen sensor


def flag_rollups(rollups: pl.DataFrame, capacity_kw: dict[str, float] | None = None) -> pl.DataFrame:
    """Return ``rollups`` with ``out_of_range`` (:func:`fault_expr`), ``stuck`` and ``bad`` (either) columns.

    Stuck: at least :data:`STUCK_MIN_RUN` consecutive buckets of one asset and metric whose
    readings are all the same value (min = max over more than one reading, the same mean in each
    bucket), that value not 0 (a stopped machine or the night read 0 honestly) and, for power,
    not within 3 % of the asset's capacity (``capacity_kw``: an inverter clipping reads flat).
    """
    if rollups.is_empty():
        return rollups.with_columns(out_of_range=pl.lit(False), stuck=pl.lit(False), bad=pl.lit(False))
    frame = rollups.with_columns(out_of_range=fault_expr(), _mean=pl.col("sum") / pl.col("count"))
    flat = (pl.col("count") > 1) & (pl.col("min") == pl.col("max")) & (pl.col("_mean").abs() > 1e-9)
    if capacity_kw:
        cap = pl.col("asset_id").replace_strict(capacity_kw, default=None, return_dtype=pl.Float64)
        flat = flat & ~((pl.col("metric") == "power_kw") & (pl.col("_mean") >= 0.97 * cap).fill_null(False))
    frame = frame.with_columns(_flat=flat)
    # runs are looked for among the flat rows only (few): consecutive buckets of one asset and metric, same mean
    runs = frame.filter(pl.col("_flat")).select("asset_id", "metric", "bucket_start", "_mean").sort(
        "asset_id", "metric", "bucket_start")
    same = ((pl.col("_mean") == pl.col("_mean").shift(1))
            & ((pl.col("bucket_start") - pl.col("bucket_start").shift(1)).dt.total_seconds() == 900)).over(
        "asset_id", "metric")
    runs = runs.with_columns(_run=(~same.fill_null(False)).cum_sum().over("asset_id", "metric"))
    runs = runs.filter(pl.len().over("asset_id", "metric", "_run") >= STUCK_MIN_RUN).select(
        "asset_id", "metric", "bucket_start", stuck=pl.lit(True))
    frame = frame.join(runs, on=["asset_id", "metric", "bucket_start"], how="left").with_columns(
        stuck=pl.col("stuck").fill_null(False))
    return frame.with_columns(bad=pl.col("out_of_range") | pl.col("stuck")).drop("_mean", "_flat")


def asset_day_quality(flagged: pl.DataFrame, intervals: pl.DataFrame, sensor_sites: dict[str, str],
                      max_gap_s: float) -> pl.DataFrame:
    """Return the data-quality score per asset and UTC day: 100 x good intervals / intervals of the day.

    Generating assets are scored on their power (the interval frame of :mod:`domain.performance`:
    ``no data`` is a gap, ``excluded`` an out-of-range or stuck reading); other assets on the
    weather they report (a bucket is covered by the previous reading when the gap is bridged, as
    for energy). A bad reading of a generating asset's own weather (its anemometer, its
    thermometer) counts against it too; an interval with a bad reading is bad, not a gap.
    Columns: site_id, asset_id, day, intervals, gaps, out_of_range, stuck, score.
    """
    power_flags = (flagged.filter(pl.col("metric") == "power_kw")
                   .select("asset_id", "bucket_start", p_oor="out_of_range", p_stuck="stuck"))
    weather_flags = (flagged.filter(pl.col("metric").is_in(list(PLAUSIBLE)))
                     .group_by("asset_id", "bucket_start").agg(w_oor=pl.col("out_of_range").any(),
                                                               w_stuck=pl.col("stuck").any()))
    oor = pl.col("p_oor").fill_null(False) | pl.col("w_oor").fill_null(False)
    stuck = (pl.col("p_stuck").fill_null(False) | pl.col("w_stuck").fill_null(False)) & ~oor
    bad = oor | stuck | (pl.col("state") == "excluded")
    gen = (intervals.join(power_flags, on=["asset_id", "bucket_start"], how="left")
           .join(weather_flags, on=["asset_id", "bucket_start"], how="left")
           .with_columns(day=pl.col("bucket_start").dt.truncate("1d"))
           .group_by("site_id", "asset_id", "day")
           .agg(intervals=pl.len(), gaps=((pl.col("state") == "no data") & ~bad).sum(), out_of_range=oor.sum(),
                stuck=stuck.sum(), bad=bad.sum()))
    generating = set(intervals["asset_id"].unique().to_list()) if intervals.height else set()
    sensors = flagged.filter(pl.col("metric").is_in(list(PLAUSIBLE)) & ~pl.col("asset_id").is_in(sorted(generating)))
    parts = [gen]
    if sensors.height and intervals.height:
        days = (intervals.select(day=pl.col("bucket_start").dt.truncate("1d")).group_by("day")
                .agg(per_day=(pl.len() // max(len(generating), 1)).cast(pl.UInt32)))  # a partial first/last day too
        buckets = (sensors.group_by("asset_id", "bucket_start").agg(oor=pl.col("out_of_range").any(), st=pl.col("stuck").any())
                   .sort("asset_id", "bucket_start"))
        ahead = (pl.col("bucket_start").shift(-1) - pl.col("bucket_start")).dt.total_seconds().over("asset_id")
        buckets = buckets.with_columns(span=pl.when(ahead.is_not_null() & (ahead <= max_gap_s)).then(ahead // 900)
                                       .otherwise(1), day=pl.col("bucket_start").dt.truncate("1d"),
                                       site_id=pl.col("asset_id").replace_strict(sensor_sites, default=None))
        sens = (buckets.group_by("site_id", "asset_id", "day")
                .agg(covered=pl.col("span").sum(), out_of_range=pl.col("oor").sum(),
                     stuck=(pl.col("st") & ~pl.col("oor")).sum())
                .join(days, on="day", how="inner")
                .with_columns(intervals=pl.col("per_day"),
                              gaps=(pl.col("per_day").cast(pl.Int64) - pl.col("covered")).clip(lower_bound=0).cast(pl.UInt32))
                .with_columns(bad=pl.col("out_of_range") + pl.col("stuck")).drop("covered"))
        parts.append(sens.select(gen.columns))
    frame = pl.concat([p.with_columns(pl.col(c).cast(pl.Int64) for c in ("intervals", "gaps", "out_of_range", "stuck", "bad"))
                       for p in parts])
    return (frame.with_columns(score=(100.0 * (pl.col("intervals") - pl.col("gaps") - pl.col("bad")).clip(lower_bound=0)
                                      / pl.col("intervals")).round(1))
            .drop("bad").sort("site_id", "asset_id", "day"))


def quality_summary(quality: pl.DataFrame | None, worst: int = 200) -> dict:
    """Return the JSON-ready summary of :func:`asset_day_quality`: mean score, counts and the worst asset-days."""
    if quality is None or quality.is_empty():
        return {"mean_score": None, "asset_days": 0, "gaps": 0, "out_of_range": 0, "stuck": 0, "worst": []}
    rows = quality.filter(pl.col("score") < 100).sort("score", "site_id", "asset_id", "day").head(worst)
    return {
        "mean_score": round(float(quality["score"].mean() or 0.0), 1),  # type: ignore[arg-type]
        "asset_days": quality.height, "gaps": int(quality["gaps"].sum()),
        "out_of_range": int(quality["out_of_range"].sum()), "stuck": int(quality["stuck"].sum()),
        "worst": [{**r, "day": r["day"].date().isoformat()} for r in rows.iter_rows(named=True)],
    }
