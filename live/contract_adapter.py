"""INTERIM adapter: today's hub payloads (``o/e/eo/cf/en/t/st``) in the shape of the B1/B2 contract.

The contract (readable keys, ``<kpi payload>`` with ``values`` and ``text``, ``market_kpis``,
``constants`` on the full state) is built for real by task B1 in ``domain/`` and the hub. Until that
branch is merged, this module translates the figures the hub computes today, so the pages (task
B2) can consume the contract shape already. It adds no fleet rule of its own: the figures are the
hub's (:mod:`live.state`); it only renames, groups per market and formats.

Merge note: when ``domain.kpis`` lands, delete this module, the two calls to it in
:mod:`live.hub` (``_emit`` and ``full_state``) and point :mod:`callbacks.kpi_texts` at
``domain.kpis.scope_kpis`` / ``format_kpis``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from data.fleet import STALE_AFTER

KPI_SCOPES = ("fleet", "market", "site")

# today's rule (data.fleet.site_status) produces exactly these; worst first
PRODUCED_STATUSES = ("producing", "idle", "stale", "no data")
STATUS_ORDER = ("stale", "no data", "idle", "producing")
SITE_KEYS = {"o": "output_mw", "e": "expected_mw", "cf": "capacity_factor", "en": "energy_today_mwh",
             "t": "last_ts_ms", "st": "status", "n": "assets_reporting"}


def site_figures(old: dict[str, Any]) -> dict[str, Any]:
    """Return one site's figures with the contract's readable keys."""
    return {new: old.get(key) for key, new in SITE_KEYS.items()}


def stale_after_s() -> int:
    """Return the staleness threshold in seconds (today data.fleet.STALE_AFTER; B1: the setting)."""
    return int(STALE_AFTER.total_seconds())


def constants(push_silence_s: float) -> dict[str, Any]:
    """Return the constants every full ``live_sites`` state carries."""
    return {"statuses": list(PRODUCED_STATUSES), "status_order": list(STATUS_ORDER),
            "stale_after_s": stale_after_s(), "push_silence_s": push_silence_s,
            "attention_statuses": ["stale", "no data"]}


def _mw(v: float | None, why: str = "no data") -> str:
    return f"— ({why})" if v is None else f"{v:,.1f} MW"


def format_texts(values: dict[str, Any]) -> dict[str, str]:
    """Return the tile texts of a ``<kpi payload>``'s values (interim formatting, one place)."""
    last = values.get("last_ts_ms")
    rates = values.get("revenue_rate") or {}
    return {
        "output_mw": _mw(values.get("output_mw")),
        "capacity_mw": _mw(values.get("capacity_mw")),
        "expected_mw": _mw(values.get("expected_mw"), "no weather measured"),
        "output_with_expected_mw": _mw(values.get("output_with_expected_mw"), "no weather measured"),
        "energy_today_mwh": f"{values.get('energy_today_mwh') or 0.0:,.1f} MWh",
        "sites": f"{values.get('sites') or 0:,}",
        "sites_reporting": f"{values.get('sites_reporting') or 0:,}",
        "revenue_rate": " · ".join(f"{v:,.0f} {c}/h" for c, v in sorted(rates.items())) or "— (no real-time price yet)",
        "last_ts_ms": "— (none yet)" if not last else
        dt.datetime.fromtimestamp(last / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


_PRICE_TTL_S = 5.0
_price_cache: dict[int, tuple[float, dict[tuple[str, str], tuple[float, str]]]] = {}


def latest_rt_prices(db: Any) -> dict[tuple[str, str], tuple[float, str]]:
    """Return {(market, node): (price per MWh, currency)} of the latest real-time interval begun by now.

    Read from market_prices at most every few seconds per database (pushes come many times a second).
    """
    import time

    from sqlalchemy import select

    from data.models import MarketPrice

    hit = _price_cache.get(id(db))
    if hit is not None and time.monotonic() - hit[0] < _PRICE_TTL_S:
        return hit[1]
    now = dt.datetime.now(dt.UTC)
    latest: dict[tuple[str, str], tuple[dt.datetime, float, str]] = {}
    with db.read_session() as session:
        for market, node, start, price, currency in session.execute(
            select(MarketPrice.market, MarketPrice.node, MarketPrice.interval_start, MarketPrice.price, MarketPrice.currency)
            .where(MarketPrice.market_type == "RT", MarketPrice.interval_start <= now,
                   MarketPrice.interval_start > now - dt.timedelta(hours=2))
        ):
            key = (market, node)
            if key not in latest or start > latest[key][0]:
                latest[key] = (start, float(price), currency)
    prices = {k: (p, c) for k, (_t, p, c) in latest.items()}
    _price_cache[id(db)] = (time.monotonic(), prices)
    return prices


def prices_changed(hub: Any) -> None:
    """New prices were stored: drop the cached prices and push the KPIs again (their revenue rate moved)."""
    import time

    db = getattr(hub, "db", None)
    _price_cache.pop(id(db), None)
    if not hasattr(hub, "_emit") or not hasattr(hub, "state"):
        return  # not a live hub (a test double): nothing to push
    now = int(time.time() * 1000)
    hub._emit("live_sites", {"full": False, "now": now, "sites": {}}, "live")
    hub._emit("overview_kpis", {"now": now}, "overview")


def kpi_payload(scope: str, scope_id: str | None, figures: dict[str, dict], infos: dict[str, Any],
                prices: dict[tuple[str, str], tuple[float, str]] | None = None) -> dict[str, Any]:
    """Return the ``<kpi payload>`` of ``scope`` from the hub's per-site figures (today's keys).

    ``prices`` = latest real-time price per (market, node): revenue rate = each generating site's
    output x its node's price, per currency (per hour).
    """
    prices = prices or {}
    revenue: dict[str, float] = {}
    if scope == "fleet":
        chosen = set(figures)
    elif scope == "market":
        chosen = {s for s in figures if s in infos and infos[s].market == scope_id}
    else:
        chosen = {scope_id} & set(figures)
    out = exp = exp_out = en = cap = 0.0
    has_exp = False
    reporting = sites = 0
    last = None
    for site_id in chosen:
        info, f = infos.get(site_id), figures[site_id]
        generating = info is None or info.kind != "substation"
        sites += 1
        reporting += f["o"] is not None
        if f["t"] is not None:
            last = f["t"] if last is None else max(last, f["t"])
        if not generating:
            continue  # a substation meters the plants behind it: never added to generation
        cap += info.capacity_mw if info is not None else 0.0
        out += f["o"] or 0.0
        en += f["en"] or 0.0
        price = prices.get((info.market, info.node)) if info is not None and f["o"] is not None else None
        if price is not None:
            revenue[price[1]] = revenue.get(price[1], 0.0) + f["o"] * price[0]
        if f["e"] is not None:
            has_exp = True
            exp += f["e"]
            exp_out += f["o"] or 0.0
    values = {
        "output_mw": round(out, 3) if reporting or scope != "site" else None, "capacity_mw": round(cap, 3),
        "expected_mw": round(exp, 3) if has_exp else None,
        "output_with_expected_mw": round(exp_out, 3) if has_exp else None,
        "energy_today_mwh": round(en, 3), "sites": sites, "sites_reporting": reporting,
        "revenue_rate": {c: round(v, 2) for c, v in revenue.items()},
        "last_ts_ms": last,
    }
    return {"scope": scope, "id": scope_id, "values": values, "text": format_texts(values)}


def adapt(hub: Any, event: str, payload: Any) -> list[tuple[str, Any, str | None]]:
    """Return the (event, payload, extra room or None) to emit for one of today's hub emits."""
    figures, infos = hub._figures, hub.state.sites
    if event in ("live_sites", "overview_kpis", "site_live"):
        prices = latest_rt_prices(hub.db)
    if event == "live_sites":
        new = {"full": payload["full"], "now_ms": payload["now"],
               "sites": {s: site_figures(f) for s, f in payload["sites"].items()},
               "fleet": kpi_payload("fleet", None, figures, infos, prices)}
        if payload["full"]:
            from live.hub import FULL_RESYNC_S

            new["constants"] = constants(2 * FULL_RESYNC_S)  # a full state comes at least this often
        markets = sorted({i.market for i in infos.values() if is_generating_site(i.kind)})
        market_kpis = {"now_ms": payload["now"], "markets": {m: kpi_payload("market", m, figures, infos, prices) for m in markets}}
        return [(event, new, None), ("market_kpis", market_kpis, "markets")]
    if event == "overview_kpis":
        return [(event, {"now_ms": payload["now"], "fleet": kpi_payload("fleet", None, figures, infos, prices)}, None)]
    if event == "site_live":
        site_id = payload["site_id"]
        figs = {site_id: payload["figures"]} if payload.get("figures") else {}
        return [(event, {"site_id": site_id, "now_ms": payload["now"],
                         "kpis": kpi_payload("site", site_id, figs, infos, prices), "assets": payload["assets"]}, None)]
    return [(event, payload, None)]


class UnknownScope(LookupError):
    """The scope id names no market or site of the fleet."""


def is_generating_site(kind: str) -> bool:
    """Return True for a site kind whose output is generation (a substation only meters it)."""
    return kind != "substation"


def scope_payload(scope: str, scope_id: str | None = None) -> dict[str, Any]:
    """Return the ``<kpi payload>`` of ``scope`` (fleet | market | site) now, from the live hub's state.

    Raises ValueError for a scope that is not one of KPI_SCOPES (or an id missing/extra for it),
    UnknownScope for an id the fleet does not have, RuntimeError when no hub runs in this process.
    """
    from live.hub import _now_ms, current_hub

    if scope not in KPI_SCOPES:
        raise ValueError(f"scope must be one of {', '.join(KPI_SCOPES)}, not {scope!r}")
    if (scope == "fleet") != (scope_id is None):
        raise ValueError("scope fleet takes no id" if scope == "fleet" else f"scope {scope} needs an id")
    hub = current_hub()
    if hub is None:
        raise RuntimeError("the live hub is not running in this process")
    infos = hub.state.sites
    if scope == "market" and not any(i.market == scope_id and is_generating_site(i.kind) for i in infos.values()):
        raise UnknownScope(f"no market {scope_id!r} in the fleet")
    if scope == "site" and scope_id not in infos:
        raise UnknownScope(f"no site with id {scope_id!r}")
    figures = hub.state.site_figures(None if scope != "site" else [scope_id], _now_ms())
    return kpi_payload(scope, scope_id, figures, infos, latest_rt_prices(hub.db))


def site_status(site_id: str) -> str:
    """Return the status the hub computes for ``site_id`` now ("no data" without a hub or site)."""
    from live.hub import _now_ms, current_hub

    hub = current_hub()
    figures = hub.state.site_figures([site_id], _now_ms()) if hub is not None else {}
    return figures[site_id]["st"] if site_id in figures else "no data"
