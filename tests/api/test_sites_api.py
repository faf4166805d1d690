"""GET /api/v1/sites, /sites/<id>, /assets, /health, /openapi.json."""
from __future__ import annotations

import datetime as dt

import orjson


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_sites_need_authentication(client, small_fleet):
    assert client.get("/api/v1/sites").status_code == 401


def test_sites_list_filters_and_live_state(client, small_fleet, ingest_token):
    now = dt.datetime.now(dt.UTC).isoformat()
    rows = [{"asset_id": a, "metric": "power_kw", "ts": now, "value": 800.0} for a in ("t-sol-INV-01", "t-sol-INV-02")]
    client.post("/api/v1/telemetry", data=orjson.dumps(rows), content_type="application/json", headers=auth(ingest_token))
    body = client.get("/api/v1/sites", headers=auth(ingest_token)).json
    assert body["total"] == 2
    solar = next(s for s in body["sites"] if s["site_id"] == "t-sol")
    assert solar["output_mw"] == 1.6 and solar["status"] == "producing" and solar["reporting_assets"] == 2
    wind = next(s for s in body["sites"] if s["site_id"] == "t-wind")
    assert wind["status"] == "no data"
    only_wind = client.get("/api/v1/sites", query_string={"kind": "wind"}, headers=auth(ingest_token)).json
    assert [s["site_id"] for s in only_wind["sites"]] == ["t-wind"]
    search = client.get("/api/v1/sites", query_string={"q": "texas"}, headers=auth(ingest_token)).json
    assert [s["site_id"] for s in search["sites"]] == ["t-sol"]
    bad = client.get("/api/v1/sites", query_string={"sort": "nonsense"}, headers=auth(ingest_token))
    assert bad.status_code == 400 and "sort" in bad.json["error"]["message"]


def test_site_detail_and_not_found(client, small_fleet, ingest_token):
    site = client.get("/api/v1/sites/t-sol", headers=auth(ingest_token)).json
    assert len(site["assets"]) == 4 and site["capacity_mw"] == 3.0
    missing = client.get("/api/v1/sites/nope", headers=auth(ingest_token))
    assert missing.status_code == 404 and "nope" in missing.json["error"]["message"]
    assets = client.get("/api/v1/assets", query_string={"site_id": "t-wind"}, headers=auth(ingest_token)).json
    assert assets["count"] == 2
    assert client.get("/api/v1/assets/t-wind-WTG-01", headers=auth(ingest_token)).json["kind"] == "turbine"
    assert client.get("/api/v1/assets/zzz", headers=auth(ingest_token)).status_code == 404


def test_health_reports_components(client, small_fleet):
    body = client.get("/api/v1/health").json
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["bus"]["status"] == "ok"
    assert body["status"] in ("ok", "degraded")


def test_openapi_document_lists_every_route(client, dash_app):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for path in ("/health", "/sites", "/sites/{site_id}", "/assets", "/telemetry"):
        assert path in doc["paths"], path
    assert "PointIn" in doc["components"]["schemas"]
    import re

    def shape(path: str) -> str:
        return re.sub(r"[<{][^>}]*[>}]", "{}", path)

    rules = {shape(r.rule.replace("/api/v1", "")) for r in dash_app.server.url_map.iter_rules()
             if r.rule.startswith("/api/v1")} - {"/openapi.json"}
    documented = {shape(p) for p in doc["paths"]}
    assert rules <= documented, rules - documented


def test_nul_characters_are_a_clear_400(client, small_fleet, ingest_token):
    response = client.get("/api/v1/sites?q=a%00b", headers=auth(ingest_token))
    assert response.status_code == 400 and "NUL" in response.json["error"]["message"]
    assert client.get("/api/v1/sites/a%00b", headers=auth(ingest_token)).status_code == 400
