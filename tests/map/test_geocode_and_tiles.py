"""Place search (Google Geocoding) and the keyed tile proxy, through the integration gateway, against a
local HTTP server answering with the recorded Google fixtures / a PNG."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from components.map_tiles import TileError, TileProxy, check_tile, tile_layers
from core.logging_setup import RedactSecrets
from core.settings import load_settings
from gateway.core import Gateway
from search.geocode import GeocodeError, geocode, parse_geocode, zoom_for_viewport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "google_maps"
KEY = "AIzaTEST-not-a-real-key"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class _Handler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *_args) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        self.requests.append(self.path)
        if url.path == "/maps/api/geocode/json":
            if q.get("key") != [KEY]:
                return self._send(200, b'{"status": "REQUEST_DENIED", "error_message": "The provided API key is invalid."}')
            address = q.get("address", [""])[0].lower()
            name = {"sydney": "geocode_json_sydney.json", "busy": "geocode_error_over_query_limit.json"}.get(address)
            if name is None:
                return self._send(200, b'{"status": "ZERO_RESULTS", "results": []}')
            return self._send(200, (FIXTURES / name).read_bytes())
        if url.path.startswith("/map/clouds_new/") and q.get("appid") == ["owm-test"]:
            return self._send(200, PNG, "image/png")
        if url.path.startswith("/v1/2dtiles/") and q.get("session") == ["sess-1"]:
            return self._send(200, PNG, "image/png")
        return self._send(401, b"{}")

    def do_POST(self) -> None:
        if self.path.startswith("/v1/createSession"):
            return self._send(200, json.dumps({"session": "sess-1", "expiry": "9999999999"}).encode())
        return self._send(404, b"{}")


@pytest.fixture()
def google_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_parse_recorded_responses():
    places = parse_geocode(json.loads((FIXTURES / "geocode_json_sydney.json").read_text()))
    assert len(places) == 1
    p = places[0]
    assert p.label == "Sydney NSW, Australia" and (p.lat, p.lon) == (-33.8688197, 151.2092955)
    assert 8 <= p.zoom <= 11 and "locality" in p.kinds and p.as_hit()["type"] == "place"
    reverse = parse_geocode(json.loads((FIXTURES / "reverse_geocode_json_utf8_chateauroux.json").read_text()))
    assert reverse and any("Châteauroux" in r.label for r in reverse)
    with pytest.raises(GeocodeError, match="OVER_QUERY_LIMIT.*Please wait"):
        parse_geocode(json.loads((FIXTURES / "geocode_error_over_query_limit.json").read_text()))
    assert parse_geocode({"status": "ZERO_RESULTS", "results": []}) == []
    for bad in ([], {"results": []}, {"status": "OK", "results": [{"geometry": {}}]},
                {"status": "OK", "results": [{"geometry": {"location": {"lat": 123, "lng": 0}}}]}):
        with pytest.raises(GeocodeError):
            parse_geocode(bad)
    assert zoom_for_viewport(None) == 11
    assert zoom_for_viewport({"northeast": {"lat": 1, "lng": 1}, "southwest": {"lat": 0.99, "lng": 0.99}}) >= 14


@pytest.fixture()
def gateway_for():
    """Return gateway_for(settings) -> a real Gateway on those settings (no database), closed after the test."""
    made = []

    def factory(settings):
        made.append(Gateway(settings, db=None))
        return made[-1]

    yield factory
    for gw in made:
        gw.close()


def test_geocode_through_the_gateway(google_server, gateway_for, caplog):
    settings = load_settings(google_maps_api_key=KEY, provider_base_urls={"google_maps": google_server})
    gw = gateway_for(settings)
    places = geocode("Sydney", settings, gw)
    assert places[0].label == "Sydney NSW, Australia"
    assert geocode("nowhere at all", settings, gw) == []
    with pytest.raises(GeocodeError, match="OVER_QUERY_LIMIT") as err:
        geocode("busy", settings, gw)
    assert KEY not in str(err.value)
    wrong = load_settings(google_maps_api_key="AIzaWRONG", provider_base_urls={"google_maps": google_server})
    with pytest.raises(GeocodeError, match="REQUEST_DENIED"):
        geocode("Sydney", wrong, gateway_for(wrong))
    assert geocode("Sydney", load_settings(google_maps_api_key=None), gw) == []
    # the gateway saw each call: call log, a row on /integrations, the rate limit and breaker of google_maps
    stats = gw.call_log.snapshot()["google_maps"]
    assert stats["calls"] == 3, stats
    row = next(r for r in gw.status() if r["provider"] == "google_maps")
    assert row["family"] == "maps" and row["mode"] == "live"
    redact = RedactSecrets()  # the process log handler's filter: Google's bare ``key=`` is masked too
    for record in caplog.records:
        redact.filter(record)
        assert KEY not in record.getMessage(), record.getMessage()


def test_geocode_unreachable_is_a_named_error(gateway_for):
    settings = load_settings(google_maps_api_key=KEY, provider_base_urls={"google_maps": "http://127.0.0.1:9"})
    with pytest.raises(GeocodeError, match="geocoding request failed") as err:
        geocode("Sydney", settings, gateway_for(settings))
    assert KEY not in str(err.value)


def test_tile_layers_follow_settings(google_server):
    plain = load_settings(google_maps_api_key=None, openweathermap_api_key=None)
    assert [t.key for t in tile_layers(plain)] == ["street"]
    assert tile_layers(load_settings(map_tile_url="", google_maps_api_key=None, openweathermap_api_key=None)) == []
    keyed = load_settings(google_maps_api_key=KEY, openweathermap_api_key="owm-test",
                          provider_base_urls={"google_maps_tiles": google_server, "openweathermap_tiles": google_server})
    layers = tile_layers(keyed)
    assert [t.key for t in layers if t.overlay] == ["owm-clouds_new", "owm-precipitation_new", "owm-wind_new"]
    assert all(KEY not in t.url and "owm-test" not in t.url for t in layers)  # keys stay on the server
    gw = Gateway(keyed, db=None)
    proxy = TileProxy(keyed, gw)
    try:
        assert proxy.tile("owm", "clouds_new", 3, 2, 1) == (PNG, "image/png")
        assert proxy.tile("google", "roadmap", 3, 2, 1)[0] == PNG
        with pytest.raises(TileError) as err:
            proxy.tile("owm", "no_such_layer", 3, 2, 1)
        assert err.value.status == 404
        with pytest.raises(TileError) as err:
            proxy.tile("owm", "wind_new", 3, 2, 1)  # the server refuses it (401): a bad gateway, named
        assert err.value.status == 502 and "owm-test" not in str(err.value)
        snapshot = gw.call_log.snapshot()
        assert snapshot["openweathermap_tiles"]["calls"] == 2 and snapshot["google_maps_tiles"]["calls"] == 2
    finally:
        proxy.close()
        gw.close()
    with pytest.raises(TileError):
        check_tile(2, 4, 0)
    check_tile(0, 0, 0)
