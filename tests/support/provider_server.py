"""A local HTTP server that speaks each provider's real wire format from tests/fixtures/.

One server, one path prefix per provider (``/owm``, ``/nws``, ``/ncei``, ``/ercot``,
``/ercotauth``, ``/caiso``, ``/entsoe``, ``/eex``); :meth:`ProviderServer.base_urls` gives the
``provider_base_urls`` setting that points every connector at it. Credentials are checked the way
each provider does (query key, header token, subscription key + bearer, basic auth) and answered
with the provider's own error shape.

Like the real services, unit conversion happens server-side: OpenWeatherMap recordings made in
Kelvin are converted when ``units=metric`` is asked, and NCEI raw tenths when ``units=metric``.

Faults: ``server.inject(provider, fault, ...)`` queues faults for the next requests of that
provider; ``server.persist(provider, fault)`` applies one to every request until cleared.
Faults: ``"401"``, ``"429"``, ``"429:<seconds>"`` (with Retry-After), ``"500"``, ``"503"``,
``"timeout:<seconds>"``, ``"html"``, ``"truncated"``, ``"missing-field"``, ``"new-field"``,
``"empty-day"``, ``"wrong-member"``, ``"reset"``, ``"oasis:<code>"`` (CAISO: a 200 zip whose report
member carries that OASIS ERR_CODE, e.g. 1015 "try later"), ``"member:<fixture>"`` (CAISO: a 200 zip
whose one member is that recorded file of tests/fixtures, under its own name, e.g. a real OASIS XML
report of another kind).

EEX: the getDaily answers are the recorded ones in tests/fixtures/eex/ (provenance in SOURCES.md),
chosen by ``priceSymbol`` and ``chartstartdate``; a symbol and day with no recording is a 404 that
says so (the server does not make up prices).
"""
from __future__ import annotations

import base64
import copy
import io
import json
import socket
import threading
import time
import zipfile
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

CREDENTIALS = {
    "owm_key": "test-owm-key",
    "ncei_token": "test-ncei-token",
    "ercot_key": "test-ercot-key",
    "ercot_user": "ercot-user",
    "ercot_password": "ercot-password",
    "ercot_token": "test-id-token",
    "entsoe_token": "test-entsoe-token",
    "eex_user": "eex-user",
    "eex_password": "eex-password",
}

HTML_ERROR = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
              b"<body><h1>Bad Gateway</h1><p>The proxy server received an invalid response.</p></body></html>")
TEMP_KEYS = {"temp", "feels_like", "temp_min", "temp_max", "dew_point", "day", "min", "max", "night", "eve", "morn"}


def _read(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


def _kelvin_to_c(obj):
    if isinstance(obj, dict):
        return {k: (round(v - 273.15, 2) if k in TEMP_KEYS and isinstance(v, (int, float)) else _kelvin_to_c(v))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_kelvin_to_c(v) for v in obj]
    return obj


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


OASIS_ERRORS = {  # CONSTRUCTED test answers: 1000's text is what OASIS answers (see the empty-day fault);
    # the 1015/1002 texts are worded after those codes' meanings, not copied from a recording
    "1000": "No data returned for the specified selection",
    "1015": "Request is being processed, please try again later",
    "1002": "Invalid date format, please use format YYYYMMDD",
}


def oasis_error_xml(code: str) -> bytes:
    """Return an OASISReport error document (RTO/ERROR with ERR_CODE and ERR_DESC) for ``code``."""
    desc = OASIS_ERRORS.get(code, "Error")
    return (b'<?xml version="1.0" encoding="UTF-8"?><m:OASISReport xmlns:m="http://www.caiso.com/soa/'
            b'OASISReport_v1.xsd"><m:RTO><m:ERROR><m:ERR_CODE>' + code.encode() + b'</m:ERR_CODE><m:ERR_DESC>'
            + desc.encode() + b'</m:ERR_DESC></m:ERROR></m:RTO></m:OASISReport>')


#: Recorded EEX getDaily answers by (priceSymbol, chartstartdate = chartstopdate), tests/fixtures/eex/.
EEX_RECORDINGS = {
    ("#E.PEG_GND1", "2025/10/24"): "eex/getDaily_PEG_GND1_2025-10-24.json",
    ("#E.PEG_GND1", "2025/10/27"): "eex/getDaily_PEG_GND1_2025-10-27.json",
    ("/E.SEME[0]", "2025/10/27"): "eex/getDaily_SEME0_2025-10-27.json",
}


class Reply:
    """An HTTP answer under construction."""

    def __init__(self, status: int = 200, body: bytes = b"", ctype: str = "application/json",
                 headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.ctype, self.headers = status, body, ctype, dict(headers or {})


class ProviderServer:
    """Threaded local server; use as a context manager or call start()/stop()."""

    def __init__(self) -> None:
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.persistent: dict[str, str | None] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- lifecycle / control ------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def base_urls(self) -> dict[str, str]:
        """Return the ``provider_base_urls`` setting pointing every provider here."""
        u = self.url
        return {"openweathermap": f"{u}/owm", "noaa_nws": f"{u}/nws", "noaa_ncei": f"{u}/ncei/cdo-web/api/v2",
                "ercot": f"{u}/ercot/api/public-reports", "ercot_auth": f"{u}/ercotauth/token",
                "caiso": f"{u}/caiso/oasisapi", "entsoe": f"{u}/entsoe/api", "eex": f"{u}/eex"}

    def start(self) -> ProviderServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ProviderServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def inject(self, provider: str, *faults: str) -> None:
        """Queue ``faults`` for the next requests to ``provider`` (one per request)."""
        with self._lock:
            self.faults[provider].extend(faults)

    def persist(self, provider: str, fault: str | None) -> None:
        """Apply ``fault`` to every request to ``provider`` (None clears it)."""
        with self._lock:
            self.persistent[provider] = fault

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.persistent.clear()
            self.requests.clear()

    def count(self, provider: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == provider)

    # --- dispatch ------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        segments = parts.path.split("/", 2)
        provider = segments[1] if len(segments) > 1 else ""
        rest = "/" + (segments[2] if len(segments) > 2 else "")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self._lock:
            self.requests.append((provider, rest, headers))
            fault = self.faults[provider].popleft() if self.faults[provider] else self.persistent.get(provider)
        if fault == "reset":
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault and fault.startswith("timeout:"):
            time.sleep(float(fault.split(":")[1]))
        reply = self._fault_reply(fault, provider)
        if reply is None:
            route = getattr(self, f"_route_{provider}", None)
            reply = route(rest, query, headers, body) if route else Reply(404, b'{"error":"unknown provider"}')
            reply = self._mutate(fault, provider, reply)
        try:
            h.send_response(reply.status)
            h.send_header("content-type", reply.ctype)
            h.send_header("content-length", str(len(reply.body)))
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _fault_reply(self, fault: str | None, provider: str) -> Reply | None:
        if not fault or fault.startswith("timeout:"):
            return None
        if fault == "401":
            if provider == "owm":
                return Reply(401, _read("openweathermap/error_401_invalid_api_key_2020.json"))
            if provider == "entsoe":
                return Reply(401, b"<html><body><h1>Unauthorized</h1></body></html>", "text/html")
            return Reply(401, b'{"statusCode": 401, "message": "Access denied due to invalid subscription key."}')
        if fault.startswith("429"):
            headers = {"Retry-After": fault.split(":")[1]} if ":" in fault else {}
            body = b'{"cod": 429, "message": "Your account is temporary blocked due to exceeding of requests limitation"}'
            return Reply(429, body, headers=headers)
        if fault in ("500", "502", "503"):
            return Reply(int(fault), b'{"error": "internal error"}')
        if fault == "html":
            return Reply(200, HTML_ERROR, "text/html")
        if fault == "empty-day":
            return self._empty(provider)
        if fault.startswith("oasis:"):
            return Reply(200, _zip({"20200101_20200101_PRC_LMP_DAM_v1.xml": oasis_error_xml(fault.split(":", 1)[1])}),
                         "application/x-zip-compressed")
        if fault.startswith("member:"):
            rel = fault.split(":", 1)[1]
            return Reply(200, _zip({Path(rel).name: _read(rel)}), "application/x-zip-compressed")
        if fault == "wrong-member":
            return Reply(200, _zip({"README.txt": b"this is not the report"}), "application/x-zip-compressed")
        return None

    def _mutate(self, fault: str | None, provider: str, reply: Reply) -> Reply:
        if fault == "truncated":
            reply.body = reply.body[: max(1, len(reply.body) // 2)]
            if reply.body[:2] == b"PK":  # a cut zip
                reply.body = reply.body[: len(reply.body) // 2]
        elif fault in ("missing-field", "new-field"):
            reply.body = self._schema_change(provider, reply.body, fault == "new-field")
        return reply

    def _schema_change(self, provider: str, body: bytes, add: bool) -> bytes:
        if body[:2] == b"PK":  # zipped CSV: drop or add a column in the member
            with zipfile.ZipFile(io.BytesIO(body)) as zf:
                name = zf.namelist()[0]
                text = zf.read(name).decode()
            return _zip({name: self._csv_change(text, add).encode()})
        if body.lstrip()[:1] == b"<":
            text = body.decode()
            if add:
                return text.replace("<curveType>", "<newElement>x</newElement><curveType>", 1).encode()
            return text.replace("<price.amount>", "<amount>").replace("</price.amount>", "</amount>").encode()
        if body.lstrip()[:1] in (b"{", b"["):
            data = json.loads(body)
            return json.dumps(self._json_change(provider, data, add)).encode()
        return self._csv_change(body.decode(), add).encode()

    @staticmethod
    def _csv_change(text: str, add: bool) -> str:
        lines = text.splitlines()
        if add:
            return "\n".join([lines[0] + ",NewColumn"] + [ln + ",x" for ln in lines[1:]]) + "\n"
        header = lines[0].split(",")
        drop = next(i for i, c in enumerate(header) if "Price" in c or c in ("MW", "VALUE"))
        return "\n".join(",".join(c for i, c in enumerate(ln.split(",")) if i != drop) for ln in lines) + "\n"

    @staticmethod
    def _json_change(provider: str, data, add: bool):
        data = copy.deepcopy(data)
        if add:
            if isinstance(data, dict):
                data["new_field_2030"] = {"nested": [1, 2, 3]}
            return data
        for key in ("main", "list", "properties", "results", "archives", "@graph", "features", "current"):
            if isinstance(data, dict) and key in data:
                del data[key]
                return data
        return data

    def _empty(self, provider: str) -> Reply:
        if provider == "owm":
            return Reply(200, b'{"cod":"200","message":0,"cnt":0,"list":[],"city":{}}')
        if provider == "ncei":
            return Reply(200, b"{}")
        if provider == "ercot":
            header = b"DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\n"
            return Reply(200, _zip({"cdr.00012331.0000000000000000.DAMSPNP4190.csv": header}),
                         "application/x-zip-compressed")
        if provider == "caiso":
            err = (b'<?xml version="1.0" encoding="UTF-8"?><m:OASISReport xmlns:m="http://www.caiso.com/soa/'
                   b'OASISReport_v1.xsd"><m:RTO><m:ERROR><m:ERR_CODE>1000</m:ERR_CODE><m:ERR_DESC>No data returned'
                   b' for the specified selection</m:ERR_DESC></m:ERROR></m:RTO></m:OASISReport>')
            return Reply(200, _zip({"INVALID_REQUEST.xml": err}), "application/x-zip-compressed")
        if provider == "entsoe":
            ack = (b'<?xml version="1.0" encoding="UTF-8"?><Acknowledgement_MarketDocument xmlns="urn:iec62325.351:'
                   b'tc57wg16:451-1:acknowledgementdocument:7:0"><mRID>x</mRID><Reason><code>999</code><text>No '
                   b'matching data found for Data item Day-ahead Prices</text></Reason></Acknowledgement_MarketDocument>')
            return Reply(200, ack, "text/xml")
        if provider == "nws":
            return Reply(200, _read("noaa_nws/alerts_active_point_45.6_-122.6_no_alerts_2025-02-07_jsonld.json"),
                         "application/ld+json")
        return Reply(200, b'{"results": {"items": []}}')

    # --- provider routes ---------------------------------------------------------------------

    def _route_owm(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        if q.get("appid") != CREDENTIALS["owm_key"]:
            return Reply(401, _read("openweathermap/error_401_invalid_api_key_2020.json"))
        files = {"/data/2.5/weather": ("openweathermap/current_weather_lat_lon_2020.json", "standard"),
                 "/data/2.5/forecast": ("openweathermap/forecast_5day_3hour_london_2025.json", "standard"),
                 "/data/3.0/onecall": ("openweathermap/onecall_lat_lon_2023_recorded_on_v2_5.json", "standard")}
        if path not in files:
            return Reply(404, b'{"cod":"404","message":"Internal error"}')
        name, recorded_units = files[path]
        raw = _read(name)
        if q.get("units") == "metric" and recorded_units == "standard":
            raw = json.dumps(_kelvin_to_c(json.loads(raw))).encode()
        return Reply(200, raw)

    def _route_nws(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        ua = headers.get("user-agent", "")
        if not ua or ua.startswith("python-httpx"):
            return Reply(403, b'{"title": "Forbidden", "detail": "A User-Agent header is required"}',
                         "application/problem+json")
        if path.startswith("/points/"):
            text = _read("noaa_nws/points_30_-85.json").decode().replace("https://api.weather.gov", self.url + "/nws")
            return Reply(200, text.encode(), "application/geo+json")
        if path.endswith("/forecast/hourly"):
            return Reply(200, _read("noaa_nws/gridpoints_TAE_58_65_forecast_hourly_2019.json"), "application/geo+json")
        if path.startswith("/alerts/active/zone/"):
            return Reply(200, _read("noaa_nws/alerts_active_zone.json"), "application/geo+json")
        if path == "/alerts/active":
            if "ld+json" in headers.get("accept", ""):
                return Reply(200, _read("noaa_nws/alerts_active_point_46.9_-116.9_2025-02-08_jsonld.json"),
                             "application/ld+json")
            return Reply(200, _read("noaa_nws/alerts_active_zone.json"), "application/geo+json")
        if path.endswith("/stations"):
            return Reply(200, b'{"type":"FeatureCollection","features":[{"properties":{"stationIdentifier":"KFLL"}}]}',
                         "application/geo+json")
        if path.endswith("/observations/latest"):
            return Reply(200, _read("noaa_nws/stations_KFLL_observations_latest.json"), "application/geo+json")
        return Reply(404, b'{"title":"Not Found"}', "application/problem+json")

    def _route_ncei(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        if headers.get("token") != CREDENTIALS["ncei_token"]:
            return Reply(400, b'{"status":"400","message":"Token parameter is required."}')
        data = json.loads(_read("noaa_ncei_cdo/cdo_v2_data_GHCND_PRCP_USC00200230_2013-09.json"))
        if q.get("units") == "metric":
            for row in data["results"]:
                row["value"] = round(row["value"] / 10.0, 1)
        return Reply(200, json.dumps(data).encode())

    def _route_ercotauth(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        if form.get("username") != CREDENTIALS["ercot_user"] or form.get("password") != CREDENTIALS["ercot_password"]:
            return Reply(400, b'{"error":"invalid_grant","error_description":"AADB2C90225: The username or password '
                              b'provided in the request are invalid."}')
        token = CREDENTIALS["ercot_token"]
        return Reply(200, json.dumps({"access_token": token, "id_token": token, "token_type": "Bearer",
                                      "expires_in": "3600"}).encode())

    def _route_ercot(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        if (headers.get("ocp-apim-subscription-key") != CREDENTIALS["ercot_key"]
                or headers.get("authorization") != f"Bearer {CREDENTIALS['ercot_token']}"):
            return Reply(401, b'{"statusCode": 401, "message": "Access denied due to invalid subscription key."}')
        emil = path.rstrip("/").rsplit("/", 1)[-1]
        docs = {"np4-190-cd": (11, "DAMSPNP4190_csv", "ercot/dam_spp_np4-190-cd_2017-02-14.csv",
                               "cdr.00012331.0000000000000000.20170213.DAMSPNP4190.csv"),
                "np6-905-cd": (22, "SPPHLZNP6905_csv", "ercot/rt_spp_np6-905-cd_2024-03-29_he1_int4_full.csv",
                               "cdr.00012301.0000000000000000.20240329.010211.SPPHLZNP6905_20240329_0100.csv")}
        if emil not in docs:
            return Reply(404, b'{"statusCode": 404, "message": "Resource not found"}')
        doc_id, friendly, fixture, member = docs[emil]
        if "download" in q:
            if q["download"] != str(doc_id):
                return Reply(404, b'{"statusCode": 404, "message": "document not found"}')
            return Reply(200, _zip({member: _read(fixture)}), "application/x-zip-compressed")
        envelope = json.loads(_read("ercot/public_api_archive_listing_np3-911-er_2024-11-05.json"))
        envelope["product"] = {"emilId": emil.upper(), "name": friendly, "reportTypeId": 0}
        envelope["archives"] = [{"docId": doc_id, "friendlyName": friendly, "postDatetime": "2017-02-13T13:30:00.000",
                                 "_links": {"endpoint": {"href": f"{self.url}/ercot/api/public-reports/archive/{emil}"
                                                                 f"?download={doc_id}"}}}]
        return Reply(200, json.dumps(envelope).encode())

    def _route_caiso(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        if q.get("queryname") == "PRC_LMP" and q.get("market_run_id") == "DAM":
            return Reply(200, _read("caiso_oasis/SingleZip_PRC_LMP_DAM_ALL_APNODES_20200101.zip"),
                         "application/x-zip-compressed")
        return self._empty("caiso")

    def _route_entsoe(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        if q.get("securityToken") != CREDENTIALS["entsoe_token"]:
            return Reply(401, b"<html><body><h1>Unauthorized</h1></body></html>", "text/html")
        if q.get("documentType") != "A44":
            return self._empty("entsoe")
        return Reply(200, _read("entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml"), "text/xml")

    def _route_eex(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        expected = base64.b64encode(f"{CREDENTIALS['eex_user']}:{CREDENTIALS['eex_password']}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return Reply(401, b'{"error": "unauthorized"}')
        if not path.startswith("/query/json/getDaily/"):
            return Reply(404, b'{"error": "unknown function"}')
        symbol, start, stop = q.get("priceSymbol", "").strip('"'), q.get("chartstartdate"), q.get("chartstopdate")
        recording = EEX_RECORDINGS.get((symbol, start)) if start == stop else None
        if recording is None:
            return Reply(404, json.dumps({"error": f"test server: no recorded getDaily answer for priceSymbol "
                                                   f"{symbol!r} from {start} to {stop}"}).encode())
        return Reply(200, _read(recording), "application/json; charset=utf-8")

    def _route_raw(self, path: str, q: dict, headers: dict, body: bytes) -> Reply:
        """A plain endpoint for the gateway overhead bench."""
        return Reply(200, b'{"ok": true}')


FAST_LIMITS = {"rate_per_s": 10000, "burst": 10000, "backoff_initial_s": 0.01, "backoff_max_s": 0.02,
               "timeout_s": 1.0, "reset_timeout_s": 0.3, "max_attempts": 3, "fail_max": 3}


def live_settings(server: ProviderServer, **overrides):
    """Return Settings with every provider live against ``server`` and fast limits for tests."""
    from core.settings import load_settings

    values = dict(
        openweathermap_api_key=CREDENTIALS["owm_key"], noaa_enabled=True, ncei_token=CREDENTIALS["ncei_token"],
        ercot_subscription_key=CREDENTIALS["ercot_key"], ercot_username=CREDENTIALS["ercot_user"],
        ercot_password=CREDENTIALS["ercot_password"], caiso_enabled=True, entsoe_token=CREDENTIALS["entsoe_token"],
        eex_username=CREDENTIALS["eex_user"], eex_password=CREDENTIALS["eex_password"],
        noaa_user_agent="FleetlightTests/1.0 (tests@example.com)",
        provider_base_urls=server.base_urls(),
        provider_limits={p: dict(FAST_LIMITS) for p in
                         ("openweathermap", "noaa_nws", "noaa_ncei", "ercot", "caiso", "entsoe", "eex")},
        provider_polling_enabled=False,
    )
    values.update(overrides)
    return load_settings(**values)
