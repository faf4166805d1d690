"""Fleet, market and site KPIs from per-site figures, and the ONE formatting of them.

Every surface (overview, /live, /markets, /wall, the site page, the REST API) shows the ``text``
of :func:`kpi_payload`; nothing formats a KPI a second time.

Rules: output, capacity, expected, energy and revenue add up the GENERATING sites of the scope
(a substation meters the plants behind it: it is never added to them). ``expected_mw`` adds the
sites that have an expectation and ``output_with_expected_mw`` the output of those same sites, so
a performance ratio compares like with like. Revenue rate = output now x the latest real-time
price of the site's (market, pricing node), per currency (a charging battery costs: negative).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.settings import Settings, get_settings
from domain.kinds import is_generating_site
from domain.status import REPORTING_STATUSES

Scope = Literal["fleet", "market", "site"]
SCOPES: tuple[str, ...] = ("fleet", "market", "site")
DASH = "—"


@dataclass(frozen=True)
class SiteFigures:
    """The live figures of one site (MW, MWh, epoch ms) and the static facts KPIs group by."""

    site_id: str
    kind: str
    market: str
    pricing_node: str
    capacity_mw: float
    output_mw: float | None
    expected_mw: float | None
    energy_today_mwh: float
    last_ts_ms: int | None
    status: str
    assets_reporting: int

    @property
    def capacity_factor(self) -> float | None:
        """Return output / capacity, None when not reporting or without capacity."""
        if self.output_mw is None or not self.capacity_mw:
            return None
        return self.output_mw / self.capacity_mw

    def push_dict(self) -> dict[str, Any]:
        """Return the site entry of the ``live_sites`` push (readable keys, rounded)."""
        cf = self.capacity_factor
        return {
            "output_mw": _r(self.output_mw, 4), "expected_mw": _r(self.expected_mw, 4),
            "performance_pct": _r(ratio_pct(self.output_mw or 0.0, self.expected_mw, self.capacity_mw), 2),
            "capacity_factor": _r(cf, 4), "energy_today_mwh": round(self.energy_today_mwh, 4),
            "last_ts_ms": self.last_ts_ms, "status": self.status, "assets_reporting": self.assets_reporting,
        }


@dataclass(frozen=True)
class ScopeKpis:
    """The KPIs of one scope (fleet, a market, a site)."""

    scope: str
    id: str | None
    output_mw: float | None
    capacity_mw: float
    expected_mw: float | None
    output_with_expected_mw: float | None
    energy_today_mwh: float
    sites: int
    sites_reporting: int
    revenue_rate: dict[str, float] = field(default_factory=dict)
    last_ts_ms: int | None = None
    generating: bool = True
    capacity_with_expected_mw: float = 0.0  # capacity of the sites the expectation covers

    def values(self) -> dict[str, Any]:
        """Return the contract's ``values`` dict (floats rounded to what is shown or finer)."""
        out = asdict(self)
        for key in ("scope", "id", "generating", "capacity_with_expected_mw"):
            out.pop(key)
        for key in ("output_mw", "expected_mw", "output_with_expected_mw"):
            out[key] = _r(out[key], 4)
        out["capacity_mw"] = round(self.capacity_mw, 4)
        out["energy_today_mwh"] = round(self.energy_today_mwh, 4)
        out["revenue_rate"] = {c: round(v, 2) for c, v in sorted(self.revenue_rate.items())}
        return out


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def in_scope(figures: Iterable[SiteFigures], scope: str, scope_id: str | None) -> list[SiteFigures]:
    """Return the sites of ``scope`` ('fleet' all, 'market' id = market name, 'site' id = site id)."""
    if scope == "fleet":
        return list(figures)
    if scope == "market":
        return [f for f in figures if f.market == scope_id]
    if scope == "site":
        return [f for f in figures if f.site_id == scope_id]
    raise ValueError(f"unknown scope {scope!r}; use one of {', '.join(SCOPES)}")


def scope_kpis(figures: Iterable[SiteFigures], scope: str, scope_id: str | None,
               prices: Mapping[tuple[str, str], tuple[float, str]]) -> ScopeKpis:
    """Return the KPIs of ``scope`` over ``figures``; ``prices`` maps (market, node) -> (price/MWh, currency).

    For scope 'site' of a substation the figures are the substation's own metered flow
    (``generating`` False, no revenue); for 'fleet' and 'market' substations are never summed.
    """
    chosen = in_scope(figures, scope, scope_id)
    if scope == "site" and chosen and not is_generating_site(chosen[0].kind):
        gen, generating = chosen, False
    else:
        gen, generating = [f for f in chosen if is_generating_site(f.kind)], True
    reporting = [f for f in gen if f.output_mw is not None]
    with_expected = [f for f in gen if f.expected_mw is not None]
    revenue: dict[str, float] = {}
    if generating:
        for f in reporting:
            price = prices.get((f.market, f.pricing_node))
            if price is not None:
                revenue[price[1]] = revenue.get(price[1], 0.0) + f.output_mw * price[0]  # type: ignore[operator]
    stamps = [f.last_ts_ms for f in chosen if f.last_ts_ms is not None]
    return ScopeKpis(
        scope=scope, id=scope_id,
        output_mw=sum(f.output_mw for f in reporting) if reporting else None,  # type: ignore[misc]
        capacity_mw=sum(f.capacity_mw for f in gen),
        expected_mw=sum(f.expected_mw for f in with_expected) if with_expected else None,  # type: ignore[misc]
        output_with_expected_mw=sum(f.output_mw or 0.0 for f in with_expected) if with_expected else None,
        energy_today_mwh=sum(f.energy_today_mwh for f in gen),
        sites=len(chosen),
        sites_reporting=sum(1 for f in chosen if f.status in REPORTING_STATUSES),
        revenue_rate=revenue,
        last_ts_ms=max(stamps) if stamps else None,
        generating=generating,
        capacity_with_expected_mw=sum(f.capacity_mw for f in with_expected),
    )


def _num(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def power_text(mw: float) -> str:
    """Return a power as shown: MW with one decimal, or kW under 0.1 MW (a 5 kW plant is not '0.0 MW')."""
    if mw != 0 and abs(mw) < 0.1:
        return f"{_num(mw * 1000, 1)} kW"
    return f"{_num(mw, 1)} MW"


def format_kpis(kpis: ScopeKpis) -> dict[str, str]:
    """Return the display text of every KPI (units, rounding, thousands separators, '—' with a reason)."""
    no_output = f"{DASH} (no site reporting)"
    text = {
        "output_mw": no_output if kpis.output_mw is None else power_text(kpis.output_mw),
        "capacity_mw": power_text(kpis.capacity_mw),
        "expected_mw": (f"{DASH} (no weather sensors reporting)" if kpis.expected_mw is None
                        else power_text(kpis.expected_mw)),
        "output_with_expected_mw": (f"{DASH} (no weather sensors reporting)" if kpis.output_with_expected_mw is None
                                    else power_text(kpis.output_with_expected_mw)),
        "energy_today_mwh": f"{_num(kpis.energy_today_mwh, 1)} MWh",
        "sites": f"{kpis.sites:,}",
        "sites_reporting": f"{kpis.sites_reporting:,} of {kpis.sites:,}",
        "last_ts_ms": (f"{DASH} (no data yet)" if kpis.last_ts_ms is None else
                       dt.datetime.fromtimestamp(kpis.last_ts_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
    }
    if not kpis.generating:
        text["revenue_rate"] = f"{DASH} (a substation meters, it does not sell)"
    elif not kpis.revenue_rate:
        text["revenue_rate"] = f"{DASH} (no real-time price or no output)"
    else:
        text["revenue_rate"] = " · ".join(f"{_num(v, 0)} {c}/h" for c, v in sorted(kpis.revenue_rate.items()))
    text["performance_pct"] = performance_text(kpis)
    return text


def ratio_pct(output_mw: float, expected_mw: float | None, capacity_mw: float,
              settings: Settings | None = None) -> float | None:
    """Return the performance ratio output / expected in %, or None when it says nothing.

    None without an expectation, and when the expectation is below
    ``performance_min_expected_fraction`` of the capacity it covers: at low sun or in a calm two
    small numbers divide into 450 % or 20 % from noise alone, so commercial monitoring drops those
    intervals too (an irradiance threshold for a PR).
    """
    if expected_mw is None or expected_mw <= 0:
        return None
    if expected_mw < (settings or get_settings()).performance_min_expected_fraction * capacity_mw:
        return None
    return 100.0 * output_mw / expected_mw


def performance_pct(kpis: ScopeKpis) -> float | None:
    """Return output / expected in % over the sites that have an expectation (:func:`ratio_pct`)."""
    if kpis.output_with_expected_mw is None:
        return None
    return ratio_pct(kpis.output_with_expected_mw, kpis.expected_mw, kpis.capacity_with_expected_mw)


def performance_text(kpis: ScopeKpis) -> str:
    """Return the performance ratio as shown ('87 %', or '—' with the reason)."""
    pct = performance_pct(kpis)
    if pct is None:
        if kpis.expected_mw is None:
            reason = "no weather sensors reporting"
        elif kpis.expected_mw <= 0:
            reason = "nothing expected now"
        else:
            share = get_settings().performance_min_expected_fraction
            reason = f"expected under {share:.0%} of capacity"
        return f"{DASH} ({reason})"
    return f"{pct:,.0f} %"


def kpi_payload(kpis: ScopeKpis) -> dict[str, Any]:
    """Return the contract's ``<kpi payload>``: scope, id, values and their texts."""
    values = kpis.values()
    values["performance_pct"] = _r(performance_pct(kpis), 2)
    return {"scope": kpis.scope, "id": kpis.id, "values": values, "text": format_kpis(kpis)}
