"""CAISO OASIS locational marginal prices: PRC_LMP (day-ahead, hourly) and PRC_INTVL_LMP (real-time, 5-minute).

API: OASIS ``/oasisapi/SingleZip`` (Interface Specification for OASIS, v5+). No key. Every answer
is a zip: the report as CSV (``resultformat=6``) or OASISReport XML (default), or a member
(``INVALID_REQUEST.xml`` or another name) carrying ``ERR_CODE``/``ERR_DESC`` when the request
failed. Every member is searched for an ERR_CODE: 1000 (no data) is empty data, 1015 ("try
later", still processing) is :class:`gateway.errors.ProviderBusy` and retried by the gateway, any
other code is reported with its code and text as a rejected request. Limit: about one request
every 5 seconds, else HTTP 429. Times in the payload are GMT
(``INTERVALSTARTTIME_GMT``), so DST days need no special handling beyond asking for the local day.
Only ``LMP_TYPE``/``DATA_ITEM`` LMP is kept (energy, congestion and loss components are dropped).
An XML member whose REPORT_HEADER names another report (e.g. ``ENE_LOSS``) is refused by that name.
Recorded: the all-APNodes PRC_LMP DAM day as CSV (2020-01-01); the only real OASIS XML recorded is an
``ENE_LOSS`` DAM answer over the spring DST change of 2013 (no LMP report in XML was found; see
tests/fixtures/SOURCES.md). It shows OASIS's DST convention: OPR_DATE 2013-03-10 has 23 hourly
REPORT_DATA numbered INTERVAL_NUM 1, 2, 4..24 (hour-ending 3 does not exist), at consecutive GMT hours.

Row rules: a price must be a finite number (``inf``/``NaN`` are refused with the line), a node
name must not be empty; an exact duplicate row (same node, interval and price) is dropped, the same
node and interval with two prices is refused naming both.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import httpx
from lxml import etree

from connectors.base import make_payload_error, payload_guard, text_number
from connectors.errors import FieldError
from connectors.markets.base import MarketProvider, day_bounds_utc, filter_nodes
from connectors.records import PriceRecord, utc_from_iso
from gateway.errors import EmptyPayload, ProviderBusy, RequestRejected

NAME = "caiso"
CaisoPayloadError = make_payload_error(NAME, "CaisoPayloadError")
MARKET = "CAISO"
TZ = ZoneInfo("America/Los_Angeles")
QUERIES = {"DA": ("PRC_LMP", "DAM", 12), "RT": ("PRC_INTVL_LMP", "RTM", 3)}
VALUE_COLUMNS = ("MW", "VALUE", "PRC")
#: REPORT names (OASISReport REPORT_HEADER/REPORT) whose REPORT_DATA are LMPs; any other report is refused.
#: REPORT carries the queryname (ENE_LOSS and ENE_SLRS in the recorded XML answers).
LMP_REPORTS = frozenset({"PRC_LMP", "PRC_INTVL_LMP"})


#: OASIS ERR_CODEs with their own handling (Interface Specification for OASIS, "Error codes");
#: every other code is a rejected request reported with its code and text.
NO_DATA_CODES = frozenset({"1000"})
TRY_LATER_CODES = frozenset({"1015"})


def _member(zf: zipfile.ZipFile, what: str) -> tuple[str, bytes]:
    names = zf.namelist()
    if not names:
        raise CaisoPayloadError(f"{what}: empty zip")
    members = {name: zf.read(name) for name in names}
    for name, data in members.items():  # an ERR_CODE in any member, not only INVALID_REQUEST.xml
        found = _oasis_error(name, data)
        if found is not None:
            _raise_oasis_error(*found, name, what)
        if "INVALID_REQUEST" in name.upper():
            raise CaisoPayloadError(f"{what}: member {name} carries no ERR_CODE (unreadable error answer)")
    reports = [n for n in names if n.lower().endswith((".csv", ".xml"))]
    if len(reports) != 1:
        raise CaisoPayloadError(f"{what}: zip holds {names[:5]}, expected one report .csv or .xml")
    return reports[0], members[reports[0]]


def _oasis_error(name: str, data: bytes) -> tuple[str, str] | None:
    """Return (ERR_CODE, ERR_DESC) when member ``name`` carries an OASIS error, else None."""
    if b"ERR_CODE" not in data[:65536]:
        return None
    head = data.lstrip()[:1]
    if head == b"<":
        try:
            root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            return "?", f"unreadable error member {name}"
        code = "".join(root.xpath("//*[local-name()='ERR_CODE']/text()")).strip()
        desc = "".join(root.xpath("//*[local-name()='ERR_DESC']/text()")).strip()
        return (code, desc) if code else None
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig", "replace"))))
    header = [h.strip().upper() for h in rows[0]] if rows else []
    if "ERR_CODE" in header and len(rows) > 1:
        row = rows[1]
        i_code, i_desc = header.index("ERR_CODE"), header.index("ERR_DESC") if "ERR_DESC" in header else None
        code = row[i_code].strip() if i_code < len(row) else ""
        desc = row[i_desc].strip() if i_desc is not None and i_desc < len(row) else ""
        return (code, desc) if code else None
    return None


def _raise_oasis_error(code: str, desc: str, member: str, what: str) -> None:
    problem = f"{what}: OASIS error {code}: {desc or 'no description'} (member {member})"
    if code in NO_DATA_CODES:
        raise EmptyPayload(NAME, problem)
    if code in TRY_LATER_CODES:
        raise ProviderBusy(NAME, problem + "; try later")
    raise RequestRejected(NAME, problem)


def _collect(out: list[PriceRecord], seen: dict[tuple[str, dt.datetime], float], record: PriceRecord,
             where: str) -> None:
    """Append ``record`` unless it repeats a row exactly; two prices for one node and interval are refused."""
    key = (record.node, record.interval_start)
    if key in seen:
        if seen[key] != record.price:
            raise FieldError(f"{where}: {record.node} has two prices for {record.interval_start:%Y-%m-%d %H:%M}Z "
                             f"({seen[key]} and {record.price})")
        return
    seen[key] = record.price
    out.append(record)


def _parse_csv(text: str, market_type: str, what: str) -> list[PriceRecord]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise EmptyPayload(NAME, f"{what}: empty CSV")
    idx = {h.strip(): i for i, h in enumerate(header)}
    value_col = next((c for c in VALUE_COLUMNS if c in idx), None)
    kind_col = "LMP_TYPE" if "LMP_TYPE" in idx else ("XML_DATA_ITEM" if "XML_DATA_ITEM" in idx else None)
    missing = [c for c in ("INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "NODE") if c not in idx]
    if missing or value_col is None or kind_col is None:
        raise CaisoPayloadError(f"{what}: missing column(s) {missing or [value_col or 'MW/VALUE', kind_col or 'LMP_TYPE']}"
                                " (schema changed?)")
    i_start, i_end, i_node = idx["INTERVALSTARTTIME_GMT"], idx["INTERVALENDTIME_GMT"], idx["NODE"]
    i_val, i_kind = idx[value_col], idx[kind_col]
    wanted = ("LMP", "LMP_PRC")
    times: dict[str, dt.datetime] = {}
    out: list[PriceRecord] = []
    seen: dict[tuple[str, dt.datetime], float] = {}
    width = len(header)
    for n, row in enumerate(reader, start=2):
        if len(row) < width:
            if not row:
                continue
            raise CaisoPayloadError(f"{what}: line {n} has {len(row)} of {width} columns (truncated?)")
        if row[i_kind] not in wanted:
            continue
        s, e = row[i_start], row[i_end]
        start = times.get(s) or times.setdefault(s, utc_from_iso(s, f"line {n} INTERVALSTARTTIME_GMT"))
        end = times.get(e) or times.setdefault(e, utc_from_iso(e, f"line {n} INTERVALENDTIME_GMT"))
        if end <= start:
            raise FieldError(f"line {n}: interval {s}..{e} is empty or reversed")
        node = row[i_node].strip()
        if not node:
            raise FieldError(f"line {n}: empty NODE")
        price = text_number(row[i_val], f"line {n} {value_col} price")
        _collect(out, seen, PriceRecord(MARKET, node[:64], market_type, start, end, price, "USD", "MWh", NAME),
                 f"line {n}")
    if not out:
        raise EmptyPayload(NAME, f"{what}: no LMP rows")
    return out


def _parse_xml(xml: bytes, market_type: str, what: str) -> list[PriceRecord]:
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    for header in root.iter("{*}REPORT_HEADER"):  # a real answer of another report is refused, not read as LMPs
        report = (header.findtext("{*}REPORT") or "").strip()
        if report and report not in LMP_REPORTS:
            market = (header.findtext("{*}MKT_TYPE") or "").strip() or "?"
            raise CaisoPayloadError(f"{what}: XML report {report} ({market}) is not an LMP report "
                                    f"(expected one of {sorted(LMP_REPORTS)})")
    out: list[PriceRecord] = []
    seen: dict[tuple[str, dt.datetime], float] = {}
    for n, item in enumerate(root.iter("{*}REPORT_DATA"), start=1):
        fields = {etree.QName(child).localname: (child.text or "").strip() for child in item}
        if fields.get("DATA_ITEM") not in ("LMP_PRC", "LMP"):
            continue
        where = f"REPORT_DATA {n}"
        try:
            start = utc_from_iso(fields["INTERVAL_START_GMT"], f"{where} INTERVAL_START_GMT")
            end = utc_from_iso(fields["INTERVAL_END_GMT"], f"{where} INTERVAL_END_GMT")
            node, price = fields["RESOURCE_NAME"], text_number(fields["VALUE"], f"{where} VALUE price")
        except KeyError as exc:
            raise CaisoPayloadError(f"{what}: REPORT_DATA without {exc.args[0]} (schema changed?)") from None
        if not node:
            raise FieldError(f"{where}: empty RESOURCE_NAME")
        _collect(out, seen, PriceRecord(MARKET, node[:64], market_type, start, end, price, "USD", "MWh", NAME), where)
    if not out:
        raise EmptyPayload(NAME, f"{what}: no LMP_PRC items in the XML report")
    return out


@payload_guard(CaisoPayloadError, "OASIS zip")
def parse_oasis_zip(body: bytes, market_type: str = "DA") -> list[PriceRecord]:
    """Return the LMPs (USD/MWh, UTC interval start) of an OASIS SingleZip answer (CSV or XML inside).

    Raises EmptyPayload for OASIS error 1000 (no data), ProviderBusy for 1015 (try later; the
    gateway retries it), RequestRejected naming code and text for any other OASIS error in any
    member, and CaisoPayloadError for a zip with the wrong member, an HTML page, a changed schema,
    truncated rows or a refused row (field and line named).
    """
    if market_type not in QUERIES:
        raise CaisoPayloadError(f"unknown market type {market_type!r}")
    what = f"{QUERIES[market_type][0]} zip"
    if not isinstance(body, (bytes, bytearray)):
        raise CaisoPayloadError(f"{what}: expected bytes")
    if body[:2] != b"PK":
        head = bytes(body[:300]).lstrip().lower()
        kind = "an HTML page" if head.startswith((b"<!doctype", b"<html")) else "a non-zip body"
        raise CaisoPayloadError(f"{what}: got {kind} instead of a zip")
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            name, data = _member(zf, what)
    except zipfile.BadZipFile as exc:
        raise CaisoPayloadError(f"{what}: broken zip ({exc})") from None
    if name.lower().endswith(".xml"):
        return _parse_xml(data, market_type, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaisoPayloadError(f"{what}: member {name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return _parse_csv(text, market_type, what)


class Caiso(MarketProvider):
    """CAISO OASIS connector (LMP at APNodes)."""

    name = NAME
    label = "CAISO OASIS"
    market = MARKET
    default_timezone = "America/Los_Angeles"
    currency = "USD"
    payload_error = CaisoPayloadError
    default_nodes = ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND", "TH_ZP26_GEN-APND")

    def get_prices(self, market_type: str, day: dt.date, nodes: Iterable[str] | None = None) -> list[PriceRecord]:
        """Return DA (hourly) or RT (5-minute) LMPs of Pacific ``day``; all APNodes when ``nodes`` is None.

        RT for all nodes is refused by OASIS for windows over one hour, so RT needs ``nodes``.
        """
        self.check_market_type(market_type)
        query, run, version = QUERIES[market_type]
        start, end = day_bounds_utc(day, TZ)
        params = {"queryname": query, "startdatetime": start.strftime("%Y%m%dT%H:%M-0000"),
                  "enddatetime": end.strftime("%Y%m%dT%H:%M-0000"), "version": version,
                  "market_run_id": run, "resultformat": 6}
        node_list = list(nodes) if nodes is not None else None
        if node_list:
            params["node"] = ",".join(node_list)
        elif market_type == "RT":
            raise self.unsupported("RT prices for all nodes over a whole day (OASIS limit); pass nodes")
        else:
            params["grp_type"] = "ALL_APNODES"
        records = self.gateway.fetch(self.name, "GET", "/SingleZip", endpoint=f"SingleZip/{query}", params=params,
                                     parse=lambda r: parse_oasis_zip(r.content, market_type)).value
        return filter_nodes(records, node_list)


def replay(request: httpx.Request) -> httpx.Response | None:
    """Offline replay: the recorded PRC_LMP DAM all-APNodes zip of 2020-01-01 (only DA is recorded)."""
    from connectors.recorded import serve

    if request.url.path.endswith("/SingleZip") and request.url.params.get("queryname") == "PRC_LMP":
        return serve(request, NAME, "SingleZip_PRC_LMP_DAM_ALL_APNODES_20200101.zip", "application/x-zip-compressed")
    return None
