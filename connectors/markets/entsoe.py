"""ENTSO-E Transparency Platform: day-ahead prices (document type A44), the free European source.

API: https://transparency.entsoe.eu/content/static_content/Static%20content/web%20api/Guide.html
(``/api?documentType=A44&in_Domain=<EIC>&out_Domain=<EIC>&periodStart=yyyyMMddHHmm&periodEnd=...``).
Auth: ``securityToken`` query parameter (settings.entsoe_token). Limit: 400 requests/minute.
Times are UTC in the payload, so a 23/25-hour local day is simply 92/100 quarter-hours.
Curve type A01 lists every position (a missing one is refused by number); A03 ("variable sized
block") omits a position whose price equals the previous one — such a gap *between two stated
positions* is filled with the previous price. Nothing is filled after the last stated position:
a trailing block and a document cut short look the same, so a period whose last position is
missing keeps only its stated positions and is flagged (``A44Document.incomplete``, and a warning
in the log) instead of being filled to a full day. A price must be a finite number (``INF``,
``1e400`` are refused with the position). A ``PT60M`` series gives node ``<zone>``, any other
resolution ``<zone>/PT15M`` etc., so both can be stored side by side.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx
from lxml import etree

from connectors.base import make_payload_error, payload_guard, text_number
from connectors.errors import FieldError
from connectors.markets.base import MarketProvider, day_bounds_utc, filter_nodes
from connectors.records import PriceRecord, utc_from_iso
from gateway.errors import EmptyPayload

log = logging.getLogger(__name__)

NAME = "entsoe"
EntsoePayloadError = make_payload_error(NAME, "EntsoePayloadError")
MARKET = "ENTSOE"
ZONES = {  # EIC -> short bidding-zone name
    "10Y1001A1001A82H": "DE-LU", "10Y1001A1001A63L": "DE-AT-LU", "10YFR-RTE------C": "FR",
    "10YNL----------L": "NL", "10YBE----------2": "BE", "10YAT-APG------L": "AT", "10YES-REE------0": "ES",
    "10YPT-REN------W": "PT", "10YCH-SWISSGRIDZ": "CH", "10YPL-AREA-----S": "PL", "10YCZ-CEPS-----N": "CZ",
    "10YDK-1--------W": "DK1", "10YDK-2--------M": "DK2", "10Y1001A1001A44P": "SE1", "10Y1001A1001A45N": "SE2",
    "10Y1001A1001A46L": "SE3", "10Y1001A1001A47J": "SE4", "10YNO-1--------2": "NO1", "10YNO-2--------T": "NO2",
    "10Y1001A1001A73I": "IT-North", "10YGB----------A": "GB", "10YIE-1001A00010": "IE-SEM",
}
EIC_BY_ZONE = {v: k for k, v in ZONES.items()}
_RES = re.compile(r"^P(?:T(\d+)M|T(\d+)H|(\d+)D)$")
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _minutes(resolution: str) -> int:
    m = _RES.match(resolution.strip())
    if not m:
        raise EntsoePayloadError(f"A44: unknown resolution {resolution!r}")
    minutes = int(m.group(1)) if m.group(1) else int(m.group(2)) * 60 if m.group(2) else int(m.group(3)) * 1440
    if minutes <= 0:
        raise EntsoePayloadError(f"A44: resolution {resolution!r} is zero")
    return minutes


def _text(el: etree._Element, name: str) -> str | None:
    found = el.find(f"{{*}}{name}")
    return found.text.strip() if found is not None and found.text else None


def _ack_error(root: etree._Element) -> None:
    reasons = [(_text(r, "code") or "", _text(r, "text") or "") for r in root.iter("{*}Reason")]
    desc = "; ".join(f"{c} {t}".strip() for c, t in reasons) or "no reason given"
    if any(c == "999" for c, _ in reasons):
        raise EmptyPayload(NAME, f"A44: acknowledgement instead of prices: {desc}")
    raise EntsoePayloadError(f"A44: acknowledgement instead of prices: {desc}")


@dataclass(frozen=True)
class A44Document:
    """The prices of an A44 document and the periods flagged as incomplete (last position missing)."""

    records: list[PriceRecord]
    incomplete: tuple[str, ...] = ()


def parse_a44(body: bytes | str) -> list[PriceRecord]:
    """Return the day-ahead prices (currency per MWh, UTC interval start) of an A44 Publication_MarketDocument.

    A period whose last position is missing is logged as a warning (see :func:`parse_a44_document`).
    """
    doc = parse_a44_document(body)
    for flag in doc.incomplete:
        log.warning("entsoe: A44 %s", flag)
    return doc.records


def _position(text: str, slots: int, start: dt.datetime) -> int:
    try:
        pos = int(text)
    except ValueError:
        raise FieldError(f"Point.position {text[:20]!r} is not an integer") from None
    if not 1 <= pos <= slots:
        raise FieldError(f"Point.position {pos} outside 1..{slots} of {start:%Y-%m-%d %H:%M}Z")
    return pos



@payload_guard(EntsoePayloadError, "A44 document")
def parse_a44_document(body: bytes | str) -> A44Document:
    """Return the prices of an A44 document with the periods whose last position is missing flagged."""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if not raw.strip():
        raise EntsoePayloadError("A44: empty body")
    head = raw[:300].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise EntsoePayloadError("A44: got an HTML page instead of XML")
    try:
        root = etree.fromstring(raw, parser=_XML)
    except etree.XMLSyntaxError as exc:
        raise EntsoePayloadError(f"A44: invalid or truncated XML ({exc})") from None
    kind = etree.QName(root).localname
    if kind == "Acknowledgement_MarketDocument":
        _ack_error(root)
    if kind != "Publication_MarketDocument":
        raise EntsoePayloadError(f"A44: unexpected root element {kind!r}")
    out: list[PriceRecord] = []
    flags: list[str] = []
    seen: dict[tuple[str, dt.datetime], float] = {}
    series = list(root.iter("{*}TimeSeries"))
    if not series:
        raise EmptyPayload(NAME, "A44: document holds no TimeSeries")
    for ts in series:
        eic = _text(ts, "in_Domain.mRID") or _text(ts, "out_Domain.mRID")
        if not eic:
            raise EntsoePayloadError("A44: TimeSeries without in_Domain.mRID")
        zone = ZONES.get(eic, eic)
        currency = _text(ts, "currency_Unit.name") or "EUR"
        unit = (_text(ts, "price_Measure_Unit.name") or "MWH").replace("MWH", "MWh")
        curve = _text(ts, "curveType") or "A01"
        if curve not in ("A01", "A03"):
            raise EntsoePayloadError(f"A44: unsupported curveType {curve!r}")
        for period in ts.iter("{*}Period"):
            interval = period.find("{*}timeInterval")
            if interval is None:
                raise EntsoePayloadError("A44: Period without timeInterval")
            start = utc_from_iso(_text(interval, "start") or "", "Period.timeInterval.start")
            end = utc_from_iso(_text(interval, "end") or "", "Period.timeInterval.end")
            step = _minutes(_text(period, "resolution") or "")
            slots = int((end - start).total_seconds() // 60 // step)
            if slots <= 0:
                raise EntsoePayloadError(f"A44: period {start}..{end} is empty or reversed")
            node = zone if step == 60 else f"{zone}/PT{step}M"
            points: dict[int, float] = {}
            for point in period.iter("{*}Point"):
                pos_text, price_text = _text(point, "position"), _text(point, "price.amount")
                if pos_text is None or price_text is None:
                    raise EntsoePayloadError("A44: Point without position or price.amount")
                pos = _position(pos_text, slots, start)
                if pos in points:
                    raise FieldError(f"Point.position {pos} appears twice in the period of {start:%Y-%m-%d %H:%M}Z")
                points[pos] = text_number(price_text, f"price.amount at position {pos}")
            if not points:
                continue
            last_stated = max(points)
            if curve == "A03":
                if 1 not in points:
                    raise EntsoePayloadError("A44: A03 curve does not start at position 1")
                filled, last = {}, points[1]
                for pos in range(1, last_stated + 1):  # inside the stated positions only
                    last = points.get(pos, last)
                    filled[pos] = last
                points = filled
            else:
                missing = [p for p in range(1, last_stated + 1) if p not in points]
                if missing:
                    raise FieldError(f"A01 curve of {node} lacks positions {missing[:10]} of the period of "
                                     f"{start:%Y-%m-%d %H:%M}Z (A01 lists every position)")
            if last_stated < slots:
                flags.append(f"period {start:%Y-%m-%dT%H:%M}Z..{end:%Y-%m-%dT%H:%M}Z of {node} ({curve}) ends at "
                             f"position {last_stated} of {slots}: last position missing, positions "
                             f"{last_stated + 1}..{slots} not filled (document cut short?)")
            width = dt.timedelta(minutes=step)
            for pos in sorted(points):
                s = start + (pos - 1) * width
                if (node, s) in seen:  # the same slot in two TimeSeries: one price kept, two prices refused
                    if seen[(node, s)] != points[pos]:
                        raise FieldError(f"{node} {s:%Y-%m-%d %H:%M}Z has two prices ({seen[(node, s)]} and "
                                         f"{points[pos]}) in two TimeSeries")
                    continue
                seen[(node, s)] = points[pos]
                out.append(PriceRecord(MARKET, node[:64], "DA", s, s + width, points[pos], currency[:3], unit, NAME))
    if not out:
        raise EmptyPayload(NAME, "A44: no price points")
    return A44Document(out, tuple(flags))


class Entsoe(MarketProvider):
    """ENTSO-E Transparency Platform connector (day-ahead only)."""

    name = NAME
    label = "ENTSO-E Transparency"
    market = MARKET
    default_timezone = "Europe/Brussels"
    currency = "EUR"
    market_types = ("DA",)
    payload_error = EntsoePayloadError
    default_nodes = ("DE-LU", "FR", "NL", "BE", "AT", "ES")

    def get_prices(self, market_type: str, day: dt.date, nodes: Iterable[str] | None = None) -> list[PriceRecord]:
        """Return day-ahead prices of CET ``day`` for bidding zones ``nodes`` (short names, default DE-LU)."""
        self.check_market_type(market_type)
        zones = list(nodes) if nodes is not None else ["DE-LU"]
        start, end = day_bounds_utc(day, ZoneInfo(self.default_timezone))
        out: list[PriceRecord] = []
        for zone in dict.fromkeys(z.split("/")[0] for z in zones):
            eic = EIC_BY_ZONE.get(zone, zone)
            params = {"documentType": "A44", "in_Domain": eic, "out_Domain": eic,
                      "periodStart": start.strftime("%Y%m%d%H%M"), "periodEnd": end.strftime("%Y%m%d%H%M")}
            token = self.gateway.secret("entsoe_token")
            if token:
                params["securityToken"] = token
            out += self.gateway.fetch(self.name, "GET", "", endpoint="A44", params=params,
                                      parse=lambda r: parse_a44(r.content)).value
        wanted = set(zones) | {f"{z}/PT15M" for z in zones}
        return filter_nodes(out, wanted if nodes is not None else None)


def replay(request: httpx.Request) -> httpx.Response | None:
    """Offline replay: the recorded DE-LU A44 document of 2021-01-01/02 (PT15M and PT60M series)."""
    from connectors.recorded import serve

    if request.url.params.get("documentType") == "A44":
        return serve(request, NAME, "day_ahead_prices_A44_DE-LU_2021-01-01.xml", "text/xml")
    return None
