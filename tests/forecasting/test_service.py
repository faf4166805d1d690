"""Registry, forecast issuing and retraining against a real (migrated) database."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from data.forecast_queries import forecasts_frame, site_history
from data.models import (
    Asset,
    AssetKind,
    GenerationForecast,
    ModelVersion,
    Portfolio,
    Site,
    SiteKind,
    TelemetryRollup,
    WeatherRecord,
)
from forecasting.errors import ForecastInputError
from forecasting.registry import list_versions
from forecasting.service import issue_forecast, retrain_all, schedule_retraining, train_site

NOW = pd.Timestamp("2012-05-01T00:00Z")
SITE = "pv-golden"


def seed_pv_site(db, pv_data, days: int = 45, with_weather: bool = True) -> None:
    """Store PVDAQ 50 as a 3 kW site: hourly rollups, PSM3 GHI observations and a 48 h 'forecast'."""
    start = NOW - pd.Timedelta(days=days)
    y = pv_data.y[(pv_data.y.index >= start) & (pv_data.y.index < NOW)]
    ghi = pv_data.weather["ghi"]
    with db.session() as s:
        s.add(Portfolio(id="p1", name="Demo"))
        s.add(Site(id=SITE, portfolio_id="p1", name="Golden PV", kind=SiteKind.solar, latitude=39.7406,
                   longitude=-105.1775, capacity_mw=0.003, market="WECC"))
        s.add(Asset(id="inv-1", site_id=SITE, name="Inverter 1", kind=AssetKind.inverter, capacity_kw=3.0))
        s.flush()
        for ts, kw in y.dropna().items():
            s.add(TelemetryRollup(asset_id="inv-1", metric="power_kw", resolution="1h", bucket_start=ts.to_pydatetime(),
                                  count=4, sum=4 * kw, min=kw, max=kw, last_ts=ts.to_pydatetime(), last_value=kw))
        if with_weather:
            for ts in pd.date_range(start, NOW + pd.Timedelta("48h"), freq="1h", inclusive="left"):
                kind = "observation" if ts < NOW else "forecast"
                s.add(WeatherRecord(site_id=SITE, source="psm3", kind=kind, ts=ts.to_pydatetime(),
                                    issued_at=None if kind == "observation" else NOW.to_pydatetime(),
                                    ghi_wm2=float(ghi.get(ts, np.nan))))


def test_train_register_and_issue(db, pv_data):
    seed_pv_site(db, pv_data)
    vid = train_site(db, SITE, "xgboost", now=NOW, history_days=45)
    with db.session() as s:
        row = s.get(ModelVersion, vid)
        assert row.is_active and row.model_name == "xgboost" and row.serving == "local"
        assert row.train_end == NOW.to_pydatetime()
        assert "wx_ghi_wm2" in row.features and "cs_ghi" in row.features
        assert row.metrics["weather_columns"] == ["ghi_wm2"]
        assert row.metrics["backtest"]["day_ahead"]["skill_rmse"] > 0.1
    out = issue_forecast(db, SITE, "xgboost", now=NOW)
    assert out["rows"] == 48 and out["source"] == "local" and out["model_version_id"] == vid
    with db.session() as s:
        frame = forecasts_frame(s, [SITE], NOW, NOW + pd.Timedelta("2D"))
    assert len(frame) == 48 and (frame["version"] == row.version).all()
    assert (frame["p10_mw"] <= frame["p50_mw"]).all() and (frame["p50_mw"] <= frame["p90_mw"]).all()
    assert frame["p90_mw"].max() <= 0.003 * 1.5
    assert frame["horizon_min"].tolist() == list(range(60, 48 * 60 + 1, 60))
    # retraining makes a new active version and keeps the old one
    vid2 = train_site(db, SITE, "xgboost", now=NOW, history_days=45)
    with db.session() as s:
        versions = list_versions(s, SITE)
    assert [v["id"] for v in versions][:2] == [vid2, vid]
    assert versions[0]["is_active"] and not versions[1]["is_active"]


def test_retrain_all_reports_bad_sites_without_stopping(db, pv_data):
    seed_pv_site(db, pv_data, days=45, with_weather=False)
    with db.session() as s:
        s.add(Site(id="empty-wind", portfolio_id="p1", name="Empty wind", kind=SiteKind.wind, capacity_mw=5.0, market="X"))
    out = retrain_all(db, models=("climatology",), now=NOW)
    assert out[f"{SITE}/climatology"]["rows"] == 48
    assert "no output history" in out["empty-wind/climatology"]["error"]
    with db.session() as s:
        assert s.scalar(select(GenerationForecast.model_version_id).limit(1)) is not None


def test_issue_without_a_model_is_refused(db, pv_data):
    seed_pv_site(db, pv_data, days=10, with_weather=False)
    with pytest.raises(ForecastInputError, match="no trained xgboost model"):
        issue_forecast(db, SITE, "xgboost", now=NOW)


def test_schedule_retraining_adds_an_interval_job(db):
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    job = schedule_retraining(scheduler, db, every_hours=6)
    assert job.id == "forecast-retrain" and job.trigger.interval == dt.timedelta(hours=6)
    assert scheduler.get_job("forecast-retrain") is not None


def test_issued_bands_learn_online_from_measured_targets(db, pv_data):
    """Each issue scores the earlier published bands whose targets are now measured (once each, no look-ahead)."""
    seed_pv_site(db, pv_data, days=45, with_weather=False)
    first = NOW - pd.Timedelta(days=4)
    vid = train_site(db, SITE, "climatology", now=first, history_days=40)
    issues = pd.date_range(first, NOW, freq="6h")
    for t in issues:
        out = issue_forecast(db, SITE, "climatology", now=t)
    with db.session() as s:
        state = s.get(ModelVersion, vid).metrics["online_band"]
        stored = forecasts_frame(s, [SITE], first, NOW, "climatology", latest_only=False)
        actual = site_history(s, SITE, first, NOW)
    measured = actual.reindex(pd.DatetimeIndex(stored["target_start"])).notna().to_numpy()
    assert state["updates"] == int(measured.sum()) > 0  # every measured target counted exactly once
    assert state["absorbed_until"] == NOW.isoformat()
    assert out["band_scale"] == state["scale"] and any(abs(v - 1.0) > 1e-3 for v in state["scale"])
    again = issue_forecast(db, SITE, "climatology", now=NOW)  # re-issuing learns nothing new
    assert again["band_scale"] == state["scale"]
    vid2 = train_site(db, SITE, "climatology", now=NOW, history_days=40)
    with db.session() as s:
        assert s.get(ModelVersion, vid2).metrics["online_band"]["log_scale"] == state["log_scale"]  # carried over
