"""GET /api/v1/kpis: telemetry posted through the real ingest path, KPIs read back from the rollups.

The actual energy is recomputed by hand from the posted points (trapezoid of the exported power,
negative night power counting 0); every KPI equals what domain.performance computes from the
stored rollups; bad parameters are 400s naming the parameter; unknown or invisible sites 404.
"""
from __future__ import annotations

import datetime as dt

import orjson
import pytest

from data.performance_queries import performance_for
from tests.support.fleet import SOLAR_ASSETS

DAY = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
START, END = DAY.isoformat(), (DAY + dt.timedelta(days=1)).isoformat()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def _points() -> list[dict]:
    """Power of the 3 inverters every 5 min over 17:00-18:00 UTC and 05:00-05:30 (negative at night), and weather."""
    rows = []
    for hour, kw, ghi in ((17, 700.0, 850.0), (5, -4.0, 0.0)):
        for i in range(13 if hour == 17 else 7):
            ts = (DAY + dt.timedelta(hours=hour, minutes=5 * i)).isoformat()
            for n, aid in enumerate(SOLAR_ASSETS):
                rows.append({"asset_id": aid, "metric": "power_kw", "ts": ts, "value": kw + (10.0 * n + (i % 2) if kw > 0 else -n)})
            rows.append({"asset_id": "t-sol-MTR", "metric": "irradiance_wm2", "ts": ts, "value": ghi + (i % 2 if ghi else 0)})
            rows.append({"asset_id": "t-sol-MTR", "metric": "temperature_c", "ts": ts, "value": 28.0 + 0.1 * (i % 2)})
    return rows


@pytest.fixture()
def posted(client, small_fleet, ingest_token):
    response = client.post("/api/v1/telemetry", data=orjson.dumps(_points()), content_type="application/json",
                           headers=auth(ingest_token))
    assert response.status_code in (200, 202), response.get_data(as_text=True)
    return small_fleet


def test_kpis_equal_the_model_and_the_hand_energy(client, posted, ingest_token):
    body = client.get("/api/v1/kpis", query_string={"site_id": "t-sol", "start": START, "end": END,
                                                     "resolution": "15min"}, headers=auth(ingest_token)).json
    # by hand: 12 five-minute trapezoids per inverter at 700/710/720 kW (+1 kW on odd steps: a live reading,
    # not a frozen one) = 1 h, each trapezoid averaging +0.5 kW; the night counts 0
    assert body["kpis"]["actual_energy_mwh"]["value"] == pytest.approx((700 + 710 + 720 + 3 * 0.5) / 1000, abs=1e-4)
    with posted.db.read_session() as session:
        _configs, report = performance_for(session, ["t-sol"], DAY, DAY + dt.timedelta(days=1), "15min")
    for key, result in report.kpis.items():
        got = body["kpis"][key]
        assert got["value"] == (None if result.value is None else pytest.approx(result.value, abs=1e-4)), key
        assert got["text"] == result.text and got["coverage_text"] == result.coverage_text, key
        assert got["definition"]["formula"] and got["definition"]["standard"], key
    pr = body["kpis"]["performance_ratio_pct"]
    # 17:00-18:00 (the 18:00 point opens a fifth bucket) and 05:00-05:30: 8 intervals of each inverter
    assert 30 < pr["value"] < 120 and pr["intervals"] == 3 * 8 and pr["of_intervals"] == 3 * 96
    assert body["kpis"]["capacity_factor_pct"]["value"] == pytest.approx(100 * 2131.5 / (24 * 0.25 * 1000), abs=1e-3)
    assert len(body["series"]) == 96 and body["site_ids"] == ["t-sol"]
    # data quality per asset and day: the 3 inverters (on power) and the meter (on its weather readings)
    assert body["quality"]["asset_days"] == 4 and body["quality"]["out_of_range"] == 0
    assert {r["asset_id"] for r in body["quality"]["worst"]} == {*SOLAR_ASSETS, "t-sol-MTR"}
    steps = {s["step"]: s["kwh"] for s in body["waterfall"]}
    assert steps["Actual"] == pytest.approx(1000 * body["kpis"]["actual_energy_mwh"]["value"], abs=0.01)


def test_portfolio_and_every_visible_site(client, posted, ingest_token):
    whole = client.get("/api/v1/kpis", query_string={"portfolio_id": "test", "start": START, "end": END},
                       headers=auth(ingest_token)).json
    assert whole["site_ids"] == ["t-sol", "t-wind"]
    assert whole["kpis"]["actual_energy_mwh"]["of_intervals"] == 5 * 96
    every = client.get("/api/v1/kpis", query_string={"start": START, "end": END}, headers=auth(ingest_token)).json
    assert every["kpis"] == whole["kpis"]


@pytest.mark.parametrize(("query", "needle"), [
    ({"resolution": "hourly"}, "resolution"),
    ({"start": END, "end": START}, "start must be before end"),
    ({"start": "2026-06-01T00:00:00"}, "start"),
    ({"start": "yesterday"}, "start"),
    ({"start": "2020-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "400 days"),
    ({"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z", "resolution": "15min"}, "15min"),
    ({"site_id": "t-sol", "portfolio_id": "test"}, "not both"),
    ({"site": "t-sol"}, "site"),
    ({"start": "1900-01-01T00:00:00Z"}, "1990"),
])
def test_bad_parameters_are_400s(client, small_fleet, ingest_token, query, needle):
    response = client.get("/api/v1/kpis", query_string=query, headers=auth(ingest_token))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert needle in response.get_data(as_text=True)


def test_unknown_site_or_portfolio_is_404(client, small_fleet, ingest_token):
    assert client.get("/api/v1/kpis?site_id=nope", headers=auth(ingest_token)).status_code == 404
    assert client.get("/api/v1/kpis?portfolio_id=nope", headers=auth(ingest_token)).status_code == 404
    assert client.get("/api/v1/kpis?site_id=t-sol").status_code == 401


def test_scoped_token_sees_only_its_portfolio(client, small_fleet):
    from data.models import Portfolio, Role, Site, SiteKind
    from security.tokens import create_token

    with small_fleet.db.session() as s:
        s.add(Portfolio(id="partner", name="Partner"))
        s.flush()
        s.add(Site(id="p-sol", portfolio_id="partner", name="Partner Solar", kind=SiteKind.solar, capacity_mw=1.0,
                   market="ERCOT"))
    from security.users import create_user

    user = create_user(small_fleet.db, "partner-viewer", "correct-horse-battery-9", Role.viewer, portfolio_scope=["partner"])
    token = create_token(small_fleet.db, "partner-reader", ["read"], Role.viewer, user_id=user.id)
    assert client.get("/api/v1/kpis?site_id=t-sol", headers=auth(token)).status_code == 404
    assert client.get("/api/v1/kpis?portfolio_id=test", headers=auth(token)).status_code == 404
    assert client.get("/api/v1/kpis", headers=auth(token)).json["site_ids"] == ["p-sol"]


def test_openapi_documents_the_route(client, small_fleet):
    doc = client.get("/api/v1/openapi.json").json
    names = {p["name"] for p in doc["paths"]["/kpis"]["get"]["parameters"]}
    assert names == {"site_id", "portfolio_id", "start", "end", "resolution"}
