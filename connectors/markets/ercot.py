"""ERCOT settlement point prices: DAM (NP4-190-CD, hourly) and real-time (NP6-905-CD, 15-minute).

Data comes from ERCOT's Public API (https://developer.ercot.com, API Explorer "public-reports"):
the EMIL archive listing ``/archive/{emil}`` returns ``_meta``/``product``/``archives`` and each
archive document (``?download={docId}``) is the MIS report — a zip holding the CSV, or the CSV.
Auth: header ``Ocp-Apim-Subscription-Key`` (settings.ercot_subscription_key) plus a Bearer ID
token from ERCOT's Azure B2C ROPC flow (settings.ercot_username / ercot_password), valid 1 hour.
Limit: 30 requests per minute.

MIS CSV quirks handled: ``HourEnding`` 01:00..24:00 (24:00 ends at next-day midnight), a space
before the price, ``DSTFlag`` Y on the repeated hour of the autumn fall-back day (25 hours) and the
missing hour of the spring-forward day (23 hours). Times are America/Chicago (Central Prevailing).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx

from connectors.base import as_int, as_str, load_json, make_payload_error, payload_guard, require
from connectors.errors import FieldError
from connectors.markets.base import MarketProvider, filter_nodes, local_to_utc
from connectors.records import PriceRecord
from gateway.errors import AuthError, EmptyPayload, RequestRejected

NAME = "ercot"
ErcotPayloadError = make_payload_error(NAME, "ErcotPayloadError")
TZ = ZoneInfo("America/Chicago")
MARKET = "ERCOT"
DAM_EMIL, RT_EMIL = "np4-190-cd", "np6-905-cd"
AUTH_URL = "https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
CLIENT_ID = "fec253ea-0d06-4272-a5e6-b478baeecd70"  # ERCOT's published public-API client id
DAM_COLUMNS = ("DeliveryDate", "HourEnding", "SettlementPoint", "SettlementPointPrice", "DSTFlag")
RT_COLUMNS = ("DeliveryDate", "DeliveryHour", "DeliveryInterval", "SettlementPointName", "SettlementPointType",
              "SettlementPointPrice", "DSTFlag")

#: NP6-905-CD settlement-point types and the suffix each adds to the node name. RN resource node,
#: PCCRN/LCCRN combined-cycle physical/logical resource node, PUN private-use network, HU hub,
#: SH bus-average hub, AH hub-average hub, LZ load zone, LZ_DC DC-tie load zone, and their
#: energy-weighted variants LZEW / LZ_DCEW (same names, so ``:EW`` keeps them apart).
RT_POINT_TYPES: dict[str, str] = {"RN": "", "PCCRN": "", "LCCRN": "", "PUN": "", "HU": "", "SH": "", "AH": "",
                                  "LZ": "", "LZ_DC": "", "LZEW": ":EW", "LZ_DCEW": ":EW"}


def _csv_text(body: bytes | str, what: str) -> str:
    """Return the CSV text of a body that is either a CSV or a zip holding one CSV."""
    if isinstance(body, str):
        return body
    if body[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as zf:
                names = zf.namelist()
                members = [n for n in names if n.lower().endswith(".csv")]
                if len(members) != 1:
                    raise ErcotPayloadError(f"{what}: zip holds {names[:5]}, expected exactly one .csv member")
                body = zf.read(members[0])
        except zipfile.BadZipFile as exc:
            raise ErcotPayloadError(f"{what}: broken zip ({exc})") from None
    head = body[:300].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html")):
        raise ErcotPayloadError(f"{what}: got an HTML page instead of CSV")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ErcotPayloadError(f"{what}: body is not UTF-8 ({exc.reason})") from None


def _rows(text: str, columns: tuple[str, ...], what: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ErcotPayloadError(f"{what}: missing column(s) {missing} (header {header[:8]}; schema changed?)")
    reader.fieldnames = header
    rows = list(reader)
    if not rows:
        raise EmptyPayload(NAME, f"{what}: no rows (empty day?)")
    return rows


def _date(value: str | None, where: str) -> dt.date:
    try:
        return dt.datetime.strptime((value or "").strip(), "%m/%d/%Y").date()
    except ValueError:
        raise FieldError(f"{where}: DeliveryDate {value!r} is not MM/DD/YYYY") from None


def _int(value: str | None, column: str, low: int, high: int, where: str) -> int:
    text = (value or "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise FieldError(f"{where}: {column} {value!r} is not a whole number in {low}..{high}")
    return int(text)


def _start(day: dt.date, minutes: int, repeated: bool, where: str) -> dt.datetime:
    try:
        return local_to_utc(day, minutes, TZ, repeated)
    except ValueError as exc:
        raise FieldError(f"{where}: {exc}") from None


def _flag(value: str | None, what: str) -> bool:
    flag = (value or "").strip().upper()
    if flag not in ("Y", "N"):
        raise ErcotPayloadError(f"{what}: DSTFlag {value!r} is neither Y nor N")
    return flag == "Y"


def _price(value: str | None, what: str) -> float:
    text = (value or "").strip()
    try:
        number = float(text)
    except ValueError:
        raise ErcotPayloadError(f"{what}: price {value!r} is not a number") from None
    if number != number or abs(number) == float("inf"):
        raise ErcotPayloadError(f"{what}: price {value!r} is not finite")
    return number


def _check_unique(records: list[PriceRecord], what: str) -> list[PriceRecord]:
    seen: set[tuple[str, dt.datetime]] = set()
    for r in records:
        key = (r.node, r.interval_start)
        if key in seen:
            raise ErcotPayloadError(f"{what}: {r.node} appears twice for {r.interval_start:%Y-%m-%d %H:%M}Z "
                                    "(DSTFlag missing on the repeated hour?)")
        seen.add(key)
    return records


@payload_guard(ErcotPayloadError, "DAM SPP CSV")
def parse_dam_spp(body: bytes | str) -> list[PriceRecord]:
    """Return hourly DA prices (USD/MWh, UTC interval start) of an NP4-190-CD MIS CSV (or its zip)."""
    what = "DAM SPP CSV"
    rows = _rows(_csv_text(body, what), DAM_COLUMNS, what)
    out: list[PriceRecord] = []
    cache: dict[tuple[str, str, bool], dt.datetime] = {}
    for n, row in enumerate(rows, start=2):
        where = f"line {n}"
        key = (row["DeliveryDate"], row["HourEnding"], _flag(row["DSTFlag"], what))
        start = cache.get(key)
        if start is None:
            hh, _, mm = (key[1] or "").strip().partition(":")
            if mm not in ("00", "") or not hh.isdigit() or not 1 <= int(hh) <= 24:
                raise FieldError(f"{where}: HourEnding {key[1]!r} outside 01:00..24:00")
            start = cache[key] = _start(_date(key[0], where), (int(hh) - 1) * 60, key[2], where)
        node = (row["SettlementPoint"] or "").strip()
        if not node:
            raise FieldError(f"{where}: empty SettlementPoint")
        out.append(PriceRecord(MARKET, node[:64], "DA", start, start + dt.timedelta(hours=1),
                               _price(row["SettlementPointPrice"], f"{what} {where}"), "USD", "MWh", NAME))
    return _check_unique(out, what)


@payload_guard(ErcotPayloadError, "RT SPP CSV")
def parse_rt_spp(body: bytes | str) -> list[PriceRecord]:
    """Return 15-minute RT prices (USD/MWh, UTC interval start) of an NP6-905-CD MIS CSV (or its zip).

    Every settlement-point type of the report is read (:data:`RT_POINT_TYPES`); the energy-weighted
    load-zone and DC-tie prices (types ``LZEW`` and ``LZ_DCEW``) get node ``<name>:EW`` so they do
    not collide with the plain ``LZ``/``LZ_DC`` price of the same name (DC_E comes twice, once per
    type: two series, not a DST duplicate). A type not in the table is refused by name.
    """
    what = "RT SPP CSV"
    rows = _rows(_csv_text(body, what), RT_COLUMNS, what)
    out: list[PriceRecord] = []
    cache: dict[tuple[str, str, str, bool], dt.datetime] = {}
    for n, row in enumerate(rows, start=2):
        where = f"line {n}"
        key = (row["DeliveryDate"], row["DeliveryHour"], row["DeliveryInterval"], _flag(row["DSTFlag"], what))
        start = cache.get(key)
        if start is None:
            hour = _int(key[1], "DeliveryHour", 1, 24, where)
            interval = _int(key[2], "DeliveryInterval", 1, 4, where)
            start = cache[key] = _start(_date(key[0], where), (hour - 1) * 60 + (interval - 1) * 15, key[3], where)
        name = (row["SettlementPointName"] or "").strip()
        kind = (row["SettlementPointType"] or "").strip().upper()
        if not name:
            raise FieldError(f"{where}: empty SettlementPointName")
        if kind not in RT_POINT_TYPES:
            raise ErcotPayloadError(f"{what}: SettlementPointType {kind!r} of {name} is not one of "
                                    f"{sorted(RT_POINT_TYPES)} (report changed?)")
        node = name + RT_POINT_TYPES[kind]
        out.append(PriceRecord(MARKET, node[:64], "RT", start, start + dt.timedelta(minutes=15),
                               _price(row["SettlementPointPrice"], f"{what} {where}"), "USD", "MWh", NAME))
    return _check_unique(out, what)


@dataclass(frozen=True)
class ArchiveDoc:
    """One document of an EMIL archive listing."""

    doc_id: int
    friendly_name: str
    posted: str


@payload_guard(ErcotPayloadError, "archive listing")
def parse_archive_listing(body: bytes | str) -> list[ArchiveDoc]:
    """Return the documents of a Public API ``/archive/{emil}`` listing (newest first as ERCOT sorts).

    ``docId`` must be a JSON integer (``true`` or ``"123"`` is refused, not read as 1 or 123).
    """
    data = load_json(body, ErcotPayloadError, "archive listing")
    archives = require(data, "archives", ErcotPayloadError, "archive listing")
    if not isinstance(archives, list):
        raise ErcotPayloadError("archive listing: 'archives' is not an array")
    return [ArchiveDoc(as_int(require(a, "docId", ErcotPayloadError, "archive"), f"archives[{n}].docId"),
                       _opt_text(a, "friendlyName", n), _opt_text(a, "postDatetime", n)) for n, a in enumerate(archives)]


def _opt_text(doc: dict[str, object], key: str, n: int) -> str:
    value = doc.get(key)
    return "" if value is None else as_str(value, f"archives[{n}].{key}", required=False)


def _csv_docs(docs: list[ArchiveDoc]) -> list[ArchiveDoc]:
    flagged = [d for d in docs if "csv" in d.friendly_name.lower()]
    return flagged or [d for d in docs if "xml" not in d.friendly_name.lower()]


_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_token_lock = threading.Lock()


class Ercot(MarketProvider):
    """ERCOT Public API connector (settlement point prices)."""

    name = NAME
    label = "ERCOT Public API"
    market = MARKET
    default_timezone = "America/Chicago"
    currency = "USD"
    payload_error = ErcotPayloadError
    default_nodes = ("HB_HOUSTON", "HB_NORTH", "HB_SOUTH", "HB_WEST", "HB_PAN", "HB_BUSAVG", "HB_HUBAVG",
                     "LZ_HOUSTON", "LZ_NORTH", "LZ_SOUTH", "LZ_WEST", "LZ_AEN", "LZ_CPS", "LZ_LCRA", "LZ_RAYBN")

    def _token(self) -> str:
        user = self.gateway.secret("ercot_username") or ""
        password = self.gateway.secret("ercot_password") or ""
        url = self.gateway.url_for("ercot_auth", AUTH_URL)
        with _token_lock:
            cached = _tokens.get((url, user))
            if cached and cached[1] > time.time() + 60:
                return cached[0]
        form = {"username": user, "password": password, "grant_type": "password",
                "scope": f"openid {CLIENT_ID} offline_access", "client_id": CLIENT_ID, "response_type": "id_token"}
        try:
            got = self.gateway.fetch(self.name, "POST", url, endpoint="auth/token", data=form, fallback=False,
                                     parse=lambda r: load_json(r.content, ErcotPayloadError, "token answer"))
        except RequestRejected as exc:
            raise AuthError(self.name, f"token request refused: {exc.problem}", status_code=exc.status_code,
                            endpoint="auth/token") from None
        data = got.value
        token = data.get("id_token") or data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise AuthError(self.name, "token answer holds no id_token/access_token", endpoint="auth/token")
        expires = float(data.get("expires_in") or 3600)
        with _token_lock:
            _tokens[(url, user)] = (str(token), time.time() + expires)
        return str(token)

    def _headers(self) -> dict[str, str]:
        if self.gateway.mode(self.name) != "live":
            return {}
        return {"Ocp-Apim-Subscription-Key": self.gateway.secret("ercot_subscription_key") or "",
                "Authorization": f"Bearer {self._token()}"}

    def list_archive(self, emil: str, posted_from: dt.datetime, posted_to: dt.datetime) -> list[ArchiveDoc]:
        """Return the archive documents of report ``emil`` posted in [posted_from, posted_to) (Central time)."""
        params = {"postDatetimeFrom": posted_from.strftime("%Y-%m-%dT%H:%M:%S"),
                  "postDatetimeTo": posted_to.strftime("%Y-%m-%dT%H:%M:%S"), "size": 1000, "page": 1}
        return self.gateway.fetch(self.name, "GET", f"/archive/{emil}", endpoint=f"archive/{emil}", params=params,
                                  headers=self._headers(), parse=lambda r: parse_archive_listing(r.content)).value

    def download(self, emil: str, doc: ArchiveDoc, parser) -> list[PriceRecord]:
        """Return the parsed records of one archive document."""
        return self.gateway.fetch(self.name, "GET", f"/archive/{emil}", endpoint=f"archive/{emil}/download",
                                  params={"download": doc.doc_id}, headers=self._headers(),
                                  parse=lambda r: parser(r.content)).value

    def get_prices(self, market_type: str, day: dt.date, nodes: Iterable[str] | None = None) -> list[PriceRecord]:
        """Return DA (hourly) or RT (15-minute) settlement point prices of Central-time ``day``."""
        self.check_market_type(market_type)
        if market_type == "DA":
            midnight = dt.datetime.combine(day, dt.time())
            docs = _csv_docs(self.list_archive(DAM_EMIL, midnight - dt.timedelta(days=1), midnight))
            if not docs:
                raise EmptyPayload(NAME, f"no DAM SPP document posted for {day}")
            records = self.download(DAM_EMIL, docs[0], parse_dam_spp)
        else:
            midnight = dt.datetime.combine(day, dt.time())
            docs = _csv_docs(self.list_archive(RT_EMIL, midnight, midnight + dt.timedelta(days=1, minutes=15)))
            if not docs:
                raise EmptyPayload(NAME, f"no RT SPP postings for {day}")
            records = [r for d in docs for r in self.download(RT_EMIL, d, parse_rt_spp)]
        local_day = [r for r in records if r.interval_start.astimezone(TZ).date() == day]
        if not local_day:
            if self.gateway.mode(self.name) != "live":
                local_day = records  # a replay serves its recorded day whatever day is asked
            else:
                raise EmptyPayload(NAME, f"{market_type} documents hold no intervals of {day}")
        return filter_nodes(local_day, nodes)

    def get_latest_rt(self, nodes: Iterable[str] | None = None) -> list[PriceRecord]:
        """Return the newest RT posting (one 15-minute interval) for ``nodes``."""
        now = dt.datetime.now(TZ).replace(tzinfo=None)
        docs = _csv_docs(self.list_archive(RT_EMIL, now - dt.timedelta(hours=1), now + dt.timedelta(minutes=5)))
        if not docs:
            raise EmptyPayload(NAME, "no RT SPP posting in the last hour")
        return filter_nodes(self.download(RT_EMIL, docs[0], parse_rt_spp), nodes)


RECORDED = {1: ("dam_spp_np4-190-cd_2017-02-14.csv", DAM_EMIL), 2: (
    "rt_spp_np6-905-cd_2024-03-29_he1_int4_full.csv", RT_EMIL)}


def replay(request: httpx.Request) -> httpx.Response | None:
    """Offline replay: a listing naming the recorded MIS CSVs (constructed), then the recorded CSVs.

    The listing is built here in the Public API envelope shape; the CSV documents are the
    byte-exact recordings in connectors/recorded/ercot/ (whatever day is asked, the recorded day
    is served — its dates say which day it is).
    """
    from connectors.recorded import serve

    path = request.url.path
    emil = path.rstrip("/").rsplit("/", 1)[-1]
    doc = request.url.params.get("download")
    if doc is not None:
        entry = RECORDED.get(int(doc)) if doc.isdigit() else None
        return serve(request, NAME, entry[0], "text/csv") if entry else None
    if "/archive/" in path:
        archives = [{"docId": i, "friendlyName": f"{name.split('_')[0].upper()}_csv", "postDatetime": ""}
                    for i, (name, e) in RECORDED.items() if e == emil]
        body = {"_meta": {"totalRecords": len(archives), "_replay": "listing constructed by Fleetlight"},
                "product": {"emilId": emil.upper()}, "archives": archives}
        import json

        return httpx.Response(200, content=json.dumps(body).encode(), request=request,
                              headers={"content-type": "application/json"})
    return None
