"""Period KPIs from the interval frame of :func:`domain.performance.interval_frame`.

Each KPI is a :class:`KpiResult`: a value, or None with the reason shown as a dash ("— (zero
capacity)"), and the data it stands on ("on 92 % of intervals, 3 % excluded for sensor faults").
The definitions are :data:`domain.kpi_definitions.DEFINITIONS`; the series and the loss waterfall
come from the same frame, so the chart, the waterfall and the tiles add up.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from core.settings import Settings, get_settings
from domain.kpi_definitions import DEFINITIONS
from domain.kpis import DASH
from domain.performance import INTERVAL_H

Resolution = Literal["15min", "1d", "1mo"]
RESOLUTIONS: tuple[str, ...] = ("15min", "1d", "1mo")
_TRUNCATE = {"15min": "15m", "1d": "1d", "1mo": "1mo"}
VALID_STATES = ("running", "curtailed", "down", "no resource")


@dataclass(frozen=True)
class KpiResult:
    """One KPI over a period: value (None = dash), reason of a dash, and its data coverage.

    ``intervals`` the asset-intervals the value stands on, ``of_intervals`` all asset-intervals of
    the period, ``excluded`` those left out for sensor faults.
    """

    key: str
    value: float | None
    reason: str | None
    intervals: int
    of_intervals: int
    excluded: int = 0

    @property
    def coverage(self) -> float | None:
        """Return the share (0..1) of the period's asset-intervals the value stands on, None for an empty period."""
        return self.intervals / self.of_intervals if self.of_intervals else None

    @property
    def text(self) -> str:
        """Return the value as shown (unit, rounding) or a dash with its reason."""
        if self.value is None:
            return f"{DASH} ({self.reason})"
        unit = DEFINITIONS[self.key].unit
        if unit == "%":
            return f"{self.value:,.1f} %"
        if unit == "MWh":  # a small plant's energy in kWh ("0.15 MWh" says little)
            return f"{self.value * 1000:,.1f} kWh" if abs(self.value) < 1 else f"{self.value:,.2f} MWh"
        return f"{self.value:,.1f} {unit}"

    @property
    def coverage_text(self) -> str:
        """Return what the value stands on: 'on 92 % of intervals, 3 % excluded (sensor faults)'."""
        if not self.of_intervals:
            return "no intervals in the period"
        text = f"on {_pct_text(self.intervals / self.of_intervals)} of {self.of_intervals:,} intervals"
        if self.excluded:
            text += f", {_pct_text(self.excluded / self.of_intervals)} excluded (out-of-range or stuck readings)"
        return text

    def as_dict(self) -> dict[str, Any]:
        """Return the API form: value, text, reason, coverage and its text, the definition."""
        return {"key": self.key, "value": None if self.value is None else round(self.value, 4), "text": self.text,
                "reason": self.reason, "coverage": None if self.coverage is None else round(self.coverage, 4),
                "coverage_text": self.coverage_text, "intervals": self.intervals, "of_intervals": self.of_intervals,
                "excluded_intervals": self.excluded, "definition": DEFINITIONS[self.key].as_dict()}


def _pct_text(share: float) -> str:
    pct = 100.0 * share
    if 0 < pct < 1:
        return "< 1 %"
    if 99 < pct < 100:
        return "> 99 %"
    return f"{pct:.0f} %"


@dataclass(frozen=True)
class PerformanceReport:
    """The KPIs of a scope over a period, the actual-vs-expected series and the loss waterfall (kWh)."""

    kpis: dict[str, KpiResult]
    series: pl.DataFrame  # period_start, actual_kwh, expected_kwh, valid_intervals, intervals
    waterfall: list[tuple[str, float]] = field(default_factory=list)  # (step, kWh): expected, -losses, actual
    quality: pl.DataFrame | None = None  # per asset and day (domain.quality.asset_day_quality)
    valued_losses: dict[str, Any] | None = None  # :func:`loss_values`

    def values(self) -> dict[str, float | None]:
        """Return {kpi key: value}."""
        return {k: r.value for k, r in self.kpis.items()}


def _spans(frame: pl.DataFrame) -> int:
    """Return the asset-intervals ``frame``'s rows stand for (the sum of their spans)."""
    return int(frame["span"].sum()) if frame.height else 0


def _capacity_hours(frame: pl.DataFrame, column: str = "capacity_kw") -> float:
    """Return Σ capacity x span x 0.25 h over ``frame`` (kWh at full output)."""
    return float((frame[column] * frame["span"]).sum()) * INTERVAL_H if frame.height else 0.0


def _ratio(num: float, den: float, floor: float) -> float | None:
    """Return 100 num / den, None when ``den`` is not above ``floor`` (a tiny denominator is noise)."""
    if den <= 0 or den <= floor or not math.isfinite(num / den):
        return None
    return 100.0 * num / den


def _kpi(key: str, value: float | None, reason: str, intervals: int, total: int, excluded: int) -> KpiResult:
    return KpiResult(key, value, None if value is not None else reason, intervals, total, excluded)


def period_kpis(frame: pl.DataFrame, settings: Settings | None = None) -> dict[str, KpiResult]:
    """Return every KPI of :data:`DEFINITIONS` over ``frame`` (rows of one or several sites)."""
    cfg = settings or get_settings()
    total = frame.height
    excluded = _spans(frame.filter(pl.col("state") == "excluded"))
    powered = frame.filter(pl.col("has_power") & ~pl.col("fault"))
    valid = frame.filter(pl.col("state").is_in(VALID_STATES))
    n_pow, n_val = _spans(powered), _spans(valid)
    no_data = "no data in the period" if not frame.filter(pl.col("has_power")).height else "all data excluded (sensor faults)"
    cap_kw = float(frame.group_by("asset_id").agg(pl.col("capacity_kw").first())["capacity_kw"].sum()) if total else 0.0
    reason_valid = _why_no_expectation(frame) if n_pow else no_data
    if total == 0:
        no_data = reason_valid = "no generating assets" if frame.is_empty() else no_data

    actual = float(powered["actual_kwh"].sum())
    actual_v, expected_v = float(valid["actual_kwh"].sum()), float(valid["expected_kwh"].sum())
    valid_cap_h = _capacity_hours(valid)
    pow_cap_h = _capacity_hours(powered)
    out: dict[str, KpiResult] = {}
    out["actual_energy_mwh"] = _kpi("actual_energy_mwh", actual / 1000.0 if n_pow else None, no_data, n_pow, total, excluded)
    out["expected_energy_mwh"] = _kpi("expected_energy_mwh", expected_v / 1000.0 if n_val else None, reason_valid,
                                      n_val, total, excluded)
    pi = _ratio(actual_v, expected_v, cfg.performance_min_expected_fraction * valid_cap_h) if n_val else None
    out["performance_index_pct"] = _kpi("performance_index_pct", pi, reason_valid if not n_val else
                                        f"expected under {cfg.performance_min_expected_fraction:.0%} of capacity",
                                        n_val, total, excluded)
    out.update(_pr_kpis(frame, valid, total, excluded, no_data, cfg))
    zero_cap = "zero capacity"
    cf = (_ratio(actual, pow_cap_h, 0.0) if pow_cap_h > 0 else None) if n_pow else None
    out["capacity_factor_pct"] = _kpi("capacity_factor_pct", cf, zero_cap if n_pow and cap_kw <= 0 else no_data,
                                      n_pow, total, excluded)
    out["specific_yield_kwh_kw"] = _specific_yield(frame, powered, n_pow, total, excluded, no_data)
    out.update(_availability(valid, total, excluded, reason_valid))
    return out


def _why_no_expectation(frame: pl.DataFrame) -> str:
    """Return why no interval has an expectation: no reference curve, no weather."""
    powered = frame.filter(pl.col("has_power") & ~pl.col("fault"))
    if powered.height and bool(powered["no_curve"].all()):
        return "no reference power curve"
    if powered.height and bool((powered["capacity_kw"] <= 0).all()):
        return "zero capacity"
    if not powered.height:
        return "all data excluded (sensor faults)"
    return "no weather measured"


def _pr_kpis(frame: pl.DataFrame, valid: pl.DataFrame, total: int, excluded: int, no_data: str,
             cfg: Settings) -> dict[str, KpiResult]:
    """Return the plain and temperature-corrected PR over the PV intervals of ``valid``."""
    pv_all = frame.filter(pl.col("kind") == "inverter")
    pv = valid.filter(pl.col("kind") == "inverter")
    if pv_all.is_empty():
        reason = "not a PV site"  # the definition says so; actual / expected is the wind figure
    elif float(pv_all["dc_kw"].max() or 0.0) <= 0:  # type: ignore[arg-type]
        reason = "zero DC capacity"
    elif pv.is_empty():
        reason = no_data if not pv_all["has_power"].any() else _why_no_expectation(pv_all)
    else:
        reason = "too little irradiance in the period"
    out = {}
    for key, column in (("performance_ratio_pct", "reference_kwh"), ("performance_ratio_temp_pct", "reference_t_kwh")):
        value = None
        if not pv.is_empty() and float(pv["dc_kw"].sum()) > 0:
            floor = cfg.performance_min_expected_fraction * _capacity_hours(pv, "dc_kw")
            value = _ratio(float(pv["actual_kwh"].sum()), float(pv[column].sum()), floor)
        out[key] = _kpi(key, value, reason, _spans(pv), total, excluded)
    return out


def _specific_yield(frame: pl.DataFrame, powered: pl.DataFrame, n_pow: int, total: int, excluded: int,
                    no_data: str) -> KpiResult:
    """Return Σ E_AC / P0 (kWh per kWp DC for PV, per kW rated for other assets)."""
    sizes = frame.group_by("asset_id").agg(pl.col("dc_kw").first(), pl.col("capacity_kw").first(), pl.col("kind").first())
    p0 = float(sizes.select(pl.when(pl.col("kind") == "inverter").then(pl.col("dc_kw"))
                            .otherwise(pl.col("capacity_kw")).sum()).item() or 0.0) if sizes.height else 0.0
    if not n_pow:
        return _kpi("specific_yield_kwh_kw", None, no_data, 0, total, excluded)
    value = float(powered["actual_kwh"].sum()) / p0 if p0 > 0 else None
    return _kpi("specific_yield_kwh_kw", value, "zero capacity", n_pow, total, excluded)


def _availability(valid: pl.DataFrame, total: int, excluded: int, reason: str) -> dict[str, KpiResult]:
    """Return the time-based (technical, operational) and energy-based availabilities and the three losses."""
    n = _spans(valid)
    counts = {s: _spans(valid.filter(pl.col("state") == s)) for s in VALID_STATES}
    losses = {s: float(valid.filter(pl.col("state") == s).select((pl.col("expected_kwh") - pl.col("actual_kwh")).sum()).item() or 0.0)
              for s in VALID_STATES} if n else dict.fromkeys(VALID_STATES, 0.0)
    actual = float(valid["actual_kwh"].sum()) if n else 0.0
    technical = 100.0 * (counts["running"] + counts["curtailed"] + counts["no resource"]) / n if n else None
    operational = 100.0 * (counts["running"] + counts["no resource"]) / n if n else None
    down = losses["down"]
    energy_av = _ratio(actual, actual + down, 0.0) if n else None
    under = losses["running"] + losses["no resource"]
    out = {
        "availability_time_technical_pct": _kpi("availability_time_technical_pct", technical, reason, n, total, excluded),
        "availability_time_operational_pct": _kpi("availability_time_operational_pct", operational, reason, n, total,
                                                  excluded),
        "availability_energy_pct": _kpi("availability_energy_pct", energy_av,
                                        reason if not n else "nothing produced or expected", n, total, excluded),
        "loss_downtime_mwh": _kpi("loss_downtime_mwh", down / 1000.0 if n else None, reason, n, total, excluded),
        "loss_curtailment_mwh": _kpi("loss_curtailment_mwh", losses["curtailed"] / 1000.0 if n else None, reason, n,
                                     total, excluded),
        "loss_underperformance_mwh": _kpi("loss_underperformance_mwh", under / 1000.0 if n else None, reason, n, total,
                                          excluded),
    }
    return out


def period_series(frame: pl.DataFrame, resolution: str) -> pl.DataFrame:
    """Return actual vs expected per period of ``resolution`` (UTC 15 min, day or month).

    Columns: period_start, actual_kwh (every interval with power data), actual_valid_kwh and
    expected_kwh (the intervals with an expectation: like with like), valid_intervals, intervals.
    """
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}; use one of {', '.join(RESOLUTIONS)}")
    valid = pl.col("state").is_in(VALID_STATES)
    return (frame.with_columns(period_start=pl.col("bucket_start").dt.truncate(_TRUNCATE[resolution]))
            .group_by("period_start")
            .agg(actual_kwh=pl.col("actual_kwh").filter(pl.col("has_power") & ~pl.col("fault")).sum(),
                 actual_valid_kwh=pl.col("actual_kwh").filter(valid).sum(),
                 expected_kwh=pl.col("expected_kwh").filter(valid).sum(),
                 valid_intervals=pl.col("span").filter(valid).sum(), intervals=pl.len())
            .sort("period_start"))


def loss_waterfall(kpis: dict[str, KpiResult]) -> list[tuple[str, float]]:
    """Return the waterfall steps in kWh: expected, minus each loss, and the actual they leave (empty without data)."""
    keys = ("expected_energy_mwh", "loss_downtime_mwh", "loss_curtailment_mwh", "loss_underperformance_mwh")
    if any(kpis[k].value is None for k in keys):
        return []
    expected, down, curtail, under = (1000.0 * float(kpis[k].value) for k in keys)  # type: ignore[arg-type]
    return [("Expected", expected), ("Downtime", -down), ("Curtailment", -curtail), ("Underperformance", -under),
            ("Actual", expected - down - curtail - under)]


def performance_report(frame: pl.DataFrame, resolution: str = "1d", settings: Settings | None = None,
                       quality: pl.DataFrame | None = None, prices: pl.DataFrame | None = None) -> PerformanceReport:
    """Return the :class:`PerformanceReport` of an interval frame: KPIs, series at ``resolution``, waterfall, quality,
    and the losses valued at ``prices`` (:func:`loss_values`) when given."""
    kpis = period_kpis(frame, settings)
    valued = loss_values(frame, prices) if prices is not None else None
    return PerformanceReport(kpis, period_series(frame, resolution), loss_waterfall(kpis), quality, valued)


def series_records(series: pl.DataFrame) -> list[dict[str, Any]]:
    """Return the series as JSON-ready rows (ISO period start, kWh rounded to Wh)."""
    out = []
    for row in series.iter_rows(named=True):
        start: dt.datetime = row["period_start"]
        out.append({"period_start": start.isoformat(), "actual_kwh": round(row["actual_kwh"], 3),
                    "actual_valid_kwh": round(row["actual_valid_kwh"], 3),
                    "expected_kwh": round(row["expected_kwh"], 3), "valid_intervals": row["valid_intervals"],
                    "intervals": row["intervals"]})
    return out


def kpi_order() -> Sequence[str]:
    """Return the KPI keys in display order."""
    return tuple(DEFINITIONS)


LOSS_STATES = {"down": "downtime", "curtailed": "curtailment", "running": "underperformance",
               "no resource": "underperformance"}


def loss_values(frame: pl.DataFrame, prices: pl.DataFrame) -> dict[str, Any]:
    """Return the losses valued at the site's market price: {currency: {downtime, curtailment, underperformance}}.

    ``prices`` (site_id, bucket_start, price per MWh, currency) holds the price of each interval
    (real-time where one exists, else day-ahead); an interval without a price is not valued, and
    ``priced_share`` says which share of the lost energy (|expected - actual| summed) has one.
    """
    valid = frame.filter(pl.col("state").is_in(VALID_STATES)).with_columns(
        loss_kwh=pl.col("expected_kwh") - pl.col("actual_kwh"),
        category=pl.col("state").replace_strict(LOSS_STATES, default=None))
    total = float(valid["loss_kwh"].abs().sum()) if valid.height else 0.0
    if not valid.height or prices.is_empty():
        return {"values": {}, "priced_share": 0.0 if total else None}
    priced = valid.join(prices, on=["site_id", "bucket_start"], how="inner")
    share = float(priced["loss_kwh"].abs().sum()) / total if total else None
    sums = (priced.group_by("currency", "category")
            .agg(value=(pl.col("loss_kwh") / 1000.0 * pl.col("price")).sum()).sort("currency", "category"))
    out: dict[str, dict[str, float]] = {}
    for row in sums.iter_rows(named=True):
        out.setdefault(row["currency"], dict.fromkeys(("downtime", "curtailment", "underperformance"), 0.0))
        out[row["currency"]][row["category"]] = round(row["value"], 2)
    return {"values": out, "priced_share": None if share is None else round(share, 4)}


def loss_value_text(valued: dict[str, Any]) -> str:
    """Return the valued losses as shown: 'valued at market prices: downtime 120 EUR · ... (prices for 87 % of it)'."""
    if valued.get("priced_share") is None:
        return "No losses to value."
    if not valued["values"]:
        return "Losses not valued: no market price of the sites' nodes for these intervals."
    parts = [" · ".join(f"{k} {v:,.0f} {currency}" for k, v in cats.items()) for currency, cats in valued["values"].items()]
    return (f"Valued at the site's market price (real-time, else day-ahead): {'; '.join(parts)} "
            f"(prices for {_pct_text(valued['priced_share'])} of the lost energy).")
