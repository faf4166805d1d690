"""The demo fleet: the real measured sites plus a deterministic portfolio of derived sites.

:func:`build_fleet` is pure: the same ``(n_assets, seed)`` always gives the same portfolios, sites
and assets (rows as dicts matching the ``portfolios``, ``sites`` and ``assets`` tables).
:func:`seed_demo_fleet` writes them with bulk core inserts, replacing any previous demo fleet.

Real sites (portfolio "NREL & ENGIE measured", ``data_origin="measured"``): La Haute Borne
(4 Senvion MM82 turbines at their real coordinates), NREL PVDAQ system 50 and NREL SERF East.
Derived sites (``data_origin="derived"``) in ERCOT, CAISO and Europe get their output from those
series through physical models (see :mod:`demo.profiles`); each says so in ``data_source``.

Asset count: exactly ``n_assets`` for ``n_assets >= 13``; below that only the 9 real assets
(plus at most one derived site) fit. Three derived sites carry missing or impossible coordinates
(``attributes.coordinate_issue``) once the fleet has 10 or more derived sites.
"""
from __future__ import annotations

import datetime as dt
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from demo.regions import JITTER_DEG, REGION_WEIGHTS, REGIONS, Anchor, Region
from demo.series import (
    PVDAQ50_AC_KW,
    PVDAQ50_AZIMUTH,
    PVDAQ50_DC_KW,
    PVDAQ50_LAT,
    PVDAQ50_LON,
    PVDAQ50_TILT,
    SERF_AZIMUTH,
    SERF_LAT,
    SERF_LON,
    SERF_TILT,
)

MEASURED_PORTFOLIO = "fl-measured"
DEMO_PORTFOLIO_IDS = (MEASURED_PORTFOLIO,) + tuple(r.portfolio_id for r in REGIONS)
REAL_SITE_IDS = ("FR-LHB", "US-PVDAQ50", "US-SERFE")
REAL_ASSET_COUNT = 9
SERF_EAST_AC_KW = 5.3  # inferred: 99.5th percentile of daily maxima of the measured series

LHB_TURBINES = (  # demo_data/wind/la_haute_borne_turbines.csv (OpenOA 3.2; ENGIE, Etalab 2.0)
    ("R80711", 48.4569, 5.5847),
    ("R80721", 48.4497, 5.5869),
    ("R80736", 48.4461, 5.5925),
    ("R80790", 48.4536, 5.5875),
)

SOLAR_UNITS = ((250.0, "Sungrow", "SG250HX"), (1000.0, "SMA", "Sunny Central 1000CP XT"),
               (2500.0, "SMA", "Sunny Central 2500-EV"), (3125.0, "Sungrow", "SG3125HV"),
               (4400.0, "SMA", "Sunny Central 4400 UP"))
WIND_UNITS = {
    "US": ((2000.0, "Vestas", "V110-2.0 MW"), (2820.0, "GE", "2.82-127"), (3450.0, "Vestas", "V126-3.45 MW"),
           (4500.0, "Siemens Gamesa", "SG 4.5-145")),
    "EU": ((2050.0, "Senvion", "MM82"), (2300.0, "Enercon", "E-82 E2"), (2400.0, "Nordex", "N117/2400"),
           (3450.0, "Vestas", "V126-3.45 MW"), (4500.0, "Siemens Gamesa", "SG 4.5-145")),
}
BATTERY_UNITS = {2.0: (1927.0, "Tesla", "Megapack 2 XL (2 h)"), 4.0: (979.0, "Tesla", "Megapack 2 XL (4 h)")}
CAPACITY_RANGE_MW = {"solar": (5.0, 250.0), "wind": (20.0, 400.0), "storage": (10.0, 200.0)}
KIND_CODE = {"solar": "PV", "wind": "WT", "storage": "BESS", "substation": "SUB"}
UNIT_CODE = {"solar": ("inverter", "INV"), "wind": ("turbine", "WTG"), "storage": ("battery", "BAT"),
             "substation": ("transformer", "TX")}
KIND_WORD = {"solar": "Solar", "wind": "Wind", "storage": "Storage", "substation": "Substation"}

LICENCE_LHB = "ENGIE La Haute Borne open data, Etalab Open Licence 2.0, via OpenOA 3.2 (BSD-3-Clause)"
LICENCE_PVDAQ = "NREL PVDAQ (DOE Open Energy Data Initiative), via pvanalytics 0.2.2 (MIT)"
LICENCE_SMARD = "Bundesnetzagentur | SMARD.de, CC BY 4.0"


@dataclass
class FleetPlan:
    """The rows of a demo fleet, ready for bulk insert (one dict per row)."""

    portfolios: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Return counts by kind, region and origin, total capacity [MW] and the sites off the map."""
        by_kind: dict[str, int] = {}
        by_portfolio: dict[str, int] = {}
        for s in self.sites:
            by_kind[s["kind"]] = by_kind.get(s["kind"], 0) + 1
            by_portfolio[s["portfolio_id"]] = by_portfolio.get(s["portfolio_id"], 0) + 1
        asset_kinds: dict[str, int] = {}
        for a in self.assets:
            asset_kinds[a["kind"]] = asset_kinds.get(a["kind"], 0) + 1
        return {
            "portfolios": len(self.portfolios),
            "sites": len(self.sites),
            "assets": len(self.assets),
            "sites_by_kind": by_kind,
            "sites_by_portfolio": by_portfolio,
            "assets_by_kind": asset_kinds,
            "measured_sites": sum(1 for s in self.sites if s["data_origin"] == "measured"),
            "derived_sites": sum(1 for s in self.sites if s["data_origin"] == "derived"),
            "generation_capacity_mw": round(sum(s["capacity_mw"] for s in self.sites if s["kind"] != "substation"), 3),
            "sites_not_on_map": [s["id"] for s in self.sites if "coordinate_issue" in s["attributes"]],
        }


# --- real sites -----------------------------------------------------------------------------


def _site(**kw: Any) -> dict[str, Any]:
    row = {"latitude": None, "longitude": None, "pricing_node": "", "timezone": "UTC", "country": "", "region": "",
           "data_origin": "derived", "data_source": "", "profile_key": "", "commissioned_on": None, "attributes": {}}
    row.update(kw)
    return row


def _asset(**kw: Any) -> dict[str, Any]:
    row = {"manufacturer": "", "model": "", "latitude": None, "longitude": None, "attributes": {}}
    row.update(kw)
    return row


def _real_sites() -> tuple[list[dict], list[dict]]:
    sites, assets = [], []
    lat = round(sum(t[1] for t in LHB_TURBINES) / 4, 5)
    lon = round(sum(t[2] for t in LHB_TURBINES) / 4, 5)
    sites.append(_site(
        id="FR-LHB", portfolio_id=MEASURED_PORTFOLIO, name="La Haute Borne", kind="wind", latitude=lat, longitude=lon,
        capacity_mw=8.2, market="EPEX", pricing_node="FR", timezone="Europe/Paris", country="FR", region="Grand Est",
        data_origin="measured", profile_key="wind:lhb",
        data_source=("Measured: ENGIE La Haute Borne turbine SCADA 2014-2015 (10-min power, nacelle wind speed, "
                     f"temperature of 4 Senvion MM82), replayed at the same time of year. {LICENCE_LHB}."),
        attributes={"profile": {"year": 1}, "turbine_model": "Senvion MM82", "hub_height_m": 80, "rotor_diameter_m": 82},
    ))
    for name, tlat, tlon in LHB_TURBINES:
        assets.append(_asset(
            id=f"FR-LHB-WTG-{name}", site_id="FR-LHB", name=name, kind="turbine", capacity_kw=2050.0,
            manufacturer="Senvion", model="MM82", latitude=tlat, longitude=tlon,
            attributes={"source_turbine": name, "hub_height_m": 80, "rotor_diameter_m": 82, "elevation_m": 411},
        ))
    assets.append(_asset(id="FR-LHB-MTR-01", site_id="FR-LHB", name="Revenue meter", kind="meter", capacity_kw=8200.0,
                         latitude=lat, longitude=lon))
    sites.append(_site(
        id="US-PVDAQ50", portfolio_id=MEASURED_PORTFOLIO, name="NREL PVDAQ system 50", kind="solar",
        latitude=PVDAQ50_LAT, longitude=PVDAQ50_LON, capacity_mw=PVDAQ50_AC_KW / 1000.0, market="PSCO",
        pricing_node="PSCO", timezone="America/Denver", country="US", region="Colorado", data_origin="measured",
        profile_key="pv:pvdaq50",
        data_source=("Measured: NREL PVDAQ system 50 (Golden, CO), AC power channel ac_power_2, 2011-2013, 15-min, "
                     "replayed at the same time of year; weather from NSRDB PSM3 (satellite model). Nameplate of "
                     f"this channel inferred as ~{PVDAQ50_AC_KW} kW AC / ~{PVDAQ50_DC_KW} kW DC. {LICENCE_PVDAQ}."),
        attributes={"profile": {}, "tilt_deg": PVDAQ50_TILT, "azimuth_deg": PVDAQ50_AZIMUTH, "dc_kw": PVDAQ50_DC_KW,
                    "balancing_authority": "PSCO (Public Service Company of Colorado)"},
    ))
    assets.append(_asset(id="US-PVDAQ50-INV-01", site_id="US-PVDAQ50", name="Inverter (channel ac_power_2)",
                         kind="inverter", capacity_kw=PVDAQ50_AC_KW, manufacturer="Fronius", model="IG 4500-LV",
                         latitude=PVDAQ50_LAT, longitude=PVDAQ50_LON))
    assets.append(_asset(id="US-PVDAQ50-MTR-01", site_id="US-PVDAQ50", name="Revenue meter", kind="meter",
                         capacity_kw=PVDAQ50_AC_KW, latitude=PVDAQ50_LAT, longitude=PVDAQ50_LON))
    sites.append(_site(
        id="US-SERFE", portfolio_id=MEASURED_PORTFOLIO, name="NREL SERF East", kind="solar", latitude=SERF_LAT,
        longitude=SERF_LON, capacity_mw=SERF_EAST_AC_KW / 1000.0, market="PSCO", pricing_node="PSCO",
        timezone="America/Denver", country="US", region="Colorado", data_origin="measured", profile_key="pv:serf_east",
        data_source=("Measured: NREL SERF East AC power, 2016-07-01..10-13, 15-min, replayed at the same time of "
                     "year; outside July-October its measured clearness is applied to its pvlib clear-sky output. "
                     f"Nameplate inferred (~{SERF_EAST_AC_KW} kW AC). {LICENCE_PVDAQ}."),
        attributes={"profile": {"tilt": SERF_TILT, "azimuth": SERF_AZIMUTH, "dc_ac": 1.1, "altitude_m": 1800.0,
                                "model_lat": SERF_LAT, "model_lon": SERF_LON, "temp_offset_c": 0.0},
                    "tilt_deg": SERF_TILT, "azimuth_deg": SERF_AZIMUTH,
                    "balancing_authority": "PSCO (Public Service Company of Colorado)"},
    ))
    assets.append(_asset(id="US-SERFE-INV-01", site_id="US-SERFE", name="Inverter", kind="inverter",
                         capacity_kw=SERF_EAST_AC_KW, latitude=SERF_LAT, longitude=SERF_LON))
    assets.append(_asset(id="US-SERFE-MTR-01", site_id="US-SERFE", name="Revenue meter", kind="meter",
                         capacity_kw=SERF_EAST_AC_KW, latitude=SERF_LAT, longitude=SERF_LON))
    return sites, assets


# --- derived sites --------------------------------------------------------------------------


def _slots(count: int) -> list[tuple[Region, str]]:
    """Return ``count`` (region, kind) slots interleaved by smooth weighted round robin."""
    combos = [(r, k, REGION_WEIGHTS[r.code] * w) for r in REGIONS for k, w in r.kind_weights.items()]
    current = [0.0] * len(combos)
    total = sum(c[2] for c in combos)
    out = []
    for _ in range(count):
        for i, c in enumerate(combos):
            current[i] += c[2]
        best = max(range(len(combos)), key=lambda i: current[i])
        current[best] -= total
        out.append((combos[best][0], combos[best][1]))
    return out


def _largest_remainder(total: int, weights: list[float], minimum: int) -> list[int]:
    n = len(weights)
    spare = total - minimum * n
    if n == 0:
        return []
    if spare < 0:
        raise ValueError(f"cannot give {n} sites {minimum} units each from {total}")
    wsum = sum(weights) or 1.0
    raw = [spare * w / wsum for w in weights]
    base = [int(math.floor(x)) for x in raw]
    left = spare - sum(base)
    order = sorted(range(n), key=lambda i: raw[i] - base[i], reverse=True)
    for i in order[:left]:
        base[i] += 1
    return [b + minimum for b in base]


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += sym
            n -= value
    return out


def _unit_for(kind: str, region: Region, target_kw_per_unit: float) -> tuple[float, str, str]:
    if kind == "solar":
        catalog = SOLAR_UNITS
    elif kind == "wind":
        catalog = WIND_UNITS["EU" if region.code == "EU" else "US"]
    else:
        catalog = (BATTERY_UNITS[region.storage_duration_h],)
    return min(catalog, key=lambda c: abs(math.log(c[0] / max(target_kw_per_unit, 1.0))))


def _derived_source(kind: str, region: Region, profile: dict, unit: tuple[float, str, str] | None) -> str:
    us = region.code != "EU"
    temp = ("air temperature from NSRDB PSM3 at Golden, CO (offset {:+.0f} degC)" if us else
            "air temperature from ERA5 at La Haute Borne (offset {:+.1f} degC)").format(profile.get("temp_offset_c", 0.0))
    if kind == "solar":
        return ("Derived demo data, not a real plant: measured clearness of NREL PVDAQ system 50 (Golden, CO, "
                "2012-2013) at the same local solar time, times this site's pvlib clear-sky output (Ineichen, "
                f"Linke climatology, PVWatts; tilt {profile['tilt']:.0f} deg, DC/AC {profile['dc_ac']:.2f}); {temp}. "
                f"{LICENCE_PVDAQ}.")
    if kind == "wind":
        return ("Derived demo data, not a real plant: La Haute Borne nacelle wind speed (2014-2015) x resource "
                f"factor {profile['resource_factor']:.2f} through the Senvion MM82 power curve fitted from its SCADA, "
                f"scaled to {unit[0]:.0f} kW turbines. {LICENCE_LHB}." if unit else "")
    if kind == "storage":
        zone = profile["price_zone"]
        shape = " (price shape only: the demo data holds no US price history)" if us else ""
        return ("Derived demo data, not a real plant: battery dispatched against real SMARD day-ahead prices "
                f"({zone}, 2015/2018){shape}: charges in the {profile['duration_h']:.0f} cheapest hours of a day, "
                f"discharges in the dearest. {LICENCE_SMARD}.")
    return "Derived demo data, not a real substation: carries the summed output of the demo sites it serves."


def _target_sites(n_assets: int) -> int:
    spare = n_assets - REAL_ASSET_COUNT
    if spare < 2:
        return 0
    return max(1, min(round(n_assets ** 0.62), spare // 3 if spare >= 6 else 1))


def build_fleet(n_assets: int, seed: int = 7) -> FleetPlan:
    """Return the demo fleet of ``n_assets`` assets (exact for n_assets >= 13), deterministic in ``seed``.

    Sites: the 3 real ones plus about ``n_assets ** 0.62`` derived sites spread over ERCOT, CAISO
    and Europe (solar, wind, storage, substations). Each derived generating site has one unit per
    inverter/turbine/battery block (catalogue ratings) and one revenue meter; substations have one
    or two transformers and a meter. Capacities: solar 5-250 MW, wind 20-400 MW, storage 10-200 MW
    targets (small fleets get fewer units, hence smaller sites).
    """
    if not isinstance(n_assets, int) or n_assets < 1 or n_assets > 200_000:
        raise ValueError(f"n_assets must be an integer between 1 and 200,000; got {n_assets!r}")
    rng = random.Random(seed)
    plan = FleetPlan()
    plan.portfolios.append({"id": MEASURED_PORTFOLIO, "name": "NREL & ENGIE measured", "owner": "Fleetlight demo",
                            "description": "Real sites replaying their own measured data (see data_source)."})
    for r in REGIONS:
        plan.portfolios.append({"id": r.portfolio_id, "name": r.portfolio_name, "owner": "Fleetlight demo",
                                "description": f"Derived demo sites in {r.market}: output modelled from real series."})
    real_sites, real_assets = _real_sites()
    plan.sites.extend(real_sites)
    plan.assets.extend(real_assets)

    n_sites = _target_sites(n_assets)
    slots = _slots(n_sites)
    spare = n_assets - REAL_ASSET_COUNT
    # a substation needs generating sites in its region; drop substations that would serve nothing
    regions_with_gen = {r.code for r, k in slots if k != "substation"}
    slots = [(r, k) if k != "substation" or r.code in regions_with_gen else (r, "solar") for r, k in slots]
    n_sub = sum(1 for _, k in slots if k == "substation")
    n_gen = len(slots) - n_sub
    tx_per_sub = 2 if spare - len(slots) - 2 * n_sub >= n_gen else 1
    units_total = spare - len(slots) - tx_per_sub * n_sub  # minus one meter per site
    if n_gen and units_total < n_gen:
        tx_per_sub = 1
        units_total = spare - len(slots) - n_sub

    # draw the sites -----------------------------------------------------------------------
    drafts: list[dict[str, Any]] = []
    used_names: dict[str, int] = {}
    seq: dict[tuple[str, str], int] = {}
    for region, kind in slots:
        anchors = [a for a in region.anchors if kind in a.kinds]
        anchor: Anchor = rng.choice(anchors)
        lat = round(anchor.latitude + rng.uniform(-JITTER_DEG[0], JITTER_DEG[0]), 5)
        lon = round(anchor.longitude + rng.uniform(-JITTER_DEG[1], JITTER_DEG[1]), 5)
        lo, hi = CAPACITY_RANGE_MW.get(kind, (50.0, 50.0))
        target_mw = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        key = (region.code, kind)
        seq[key] = seq.get(key, 0) + 1
        site_id = f"{region.code}-{KIND_CODE[kind]}-{seq[key]:04d}"
        base = f"{anchor.name} {KIND_WORD[kind]}"
        used_names[base] = used_names.get(base, 0) + 1
        name = base if used_names[base] == 1 else f"{base} {_roman(used_names[base])}"
        drafts.append({"region": region, "kind": kind, "anchor": anchor, "lat": lat, "lon": lon,
                       "target_mw": target_mw, "id": site_id, "name": name,
                       "commissioned": dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(0, 15 * 365)),
                       "day_offset": rng.randint(-12, 12), "year": rng.randint(0, 1),
                       "rf": rng.uniform(*region.wind_resource), "dc_ac": rng.uniform(1.2, 1.35),
                       "perf_seed": rng.randrange(1 << 30)})
    gen = [d for d in drafts if d["kind"] != "substation"]
    units = _largest_remainder(max(units_total, len(gen)), [d["target_mw"] ** 0.8 for d in gen], 1) if gen else []
    for d, u in zip(gen, units, strict=False):
        d["units"] = u

    # coordinates that cannot go on the map (real-world data quality cases)
    if len(gen) >= 10:
        us_gen = [d for d in gen if d["region"].code != "EU"]
        candidates = [gen[-1], gen[-4]] + us_gen[-2:-1] + [gen[-7], gen[-2], gen[-5]]
        picks: list[dict[str, Any]] = []
        for d in candidates:
            if all(d is not p for p in picks):
                picks.append(d)
        issues = ("missing: the commissioning record has no coordinates",
                  "placeholder 0,0 from a bulk import (outside the site's region)",
                  "latitude and longitude swapped in the commissioning sheet (|latitude| > 90)")
        for d, issue in zip(picks, issues, strict=False):
            d["issue"] = issue
        if picks[2]["region"].code == "EU":  # swapped EU coordinates would still be a valid point
            picks[2]["issue"] = "latitude and longitude swapped in the commissioning sheet (lands outside Europe)"

    # substations serve the nearest generating sites of their region ------------------------
    subs = [d for d in drafts if d["kind"] == "substation"]
    for s in subs:
        s["serves"] = []
    for region in REGIONS:
        rsubs = [s for s in subs if s["region"] is region]
        rgen = [d for d in gen if d["region"] is region]
        if not rsubs:
            continue
        dist = lambda a, b: (a["lat"] - b["lat"]) ** 2 + ((a["lon"] - b["lon"]) * 0.8) ** 2  # noqa: E731
        free = list(rgen)
        for s in rsubs:
            if free:
                nearest = min(free, key=lambda d: dist(s, d))
                s["serves"].append(nearest)
                free.remove(nearest)
        for d in free:
            min(rsubs, key=lambda s: dist(s, d))["serves"].append(d)

    # rows ---------------------------------------------------------------------------------
    for d in drafts:
        region, kind, anchor = d["region"], d["kind"], d["anchor"]
        profile: dict[str, Any] = {"day_offset": d["day_offset"], "year": d["year"]}
        unit = None
        attributes: dict[str, Any] = {"anchor": anchor.name}
        if kind == "substation":
            continue
        n_units = d["units"]
        unit = _unit_for(kind, region, d["target_mw"] * 1000.0 / n_units)
        capacity_mw = round(unit[0] * n_units / 1000.0, 3)
        d["capacity_mw"] = capacity_mw
        if kind == "solar":
            profile.update({"tilt": round(min(35.0, max(10.0, anchor.latitude * 0.7)), 1), "azimuth": 180.0,
                            "dc_ac": round(d["dc_ac"], 2), "altitude_m": float(anchor.altitude_m),
                            "temp_offset_c": (region.temp_offset_c if region.code != "EU"
                                              else round((48.45 - anchor.latitude) * 0.5, 1)),
                            "temperature_source": "psm3" if region.code != "EU" else "era5"})
        elif kind == "wind":
            profile.update({"resource_factor": round(d["rf"], 3)})
        elif kind == "storage":
            zone = anchor.price_zone if region.code == "EU" else "DE-LU"
            profile.update({"price_zone": zone, "duration_h": region.storage_duration_h})
            attributes["energy_mwh"] = round(capacity_mw * region.storage_duration_h, 3)
        d["unit"], d["profile"], d["attributes"] = unit, profile, attributes

    for s in subs:
        served_mw = sum(d["capacity_mw"] for d in s["serves"])
        s["capacity_mw"] = max(10.0, math.ceil(served_mw * 1.15 / 5.0) * 5.0)
        s["profile"] = {"serves": [d["id"] for d in s["serves"]]}
        s["attributes"] = {"anchor": s["anchor"].name, "voltage_kv": 345 if s["region"].code == "ERC" else 230
                           if s["region"].code == "CAI" else 220}
        for d in s["serves"]:
            d["attributes"]["substation_id"] = s["id"]

    for d in drafts:
        region, kind, anchor = d["region"], d["kind"], d["anchor"]
        lat, lon = d["lat"], d["lon"]
        profile = d["profile"]
        attrs = dict(d["attributes"])
        if "issue" in d:
            attrs["coordinate_issue"] = d["issue"]
            profile["model_lat"], profile["model_lon"] = lat, lon
            if d["issue"].startswith("missing"):
                lat, lon = None, None
            elif d["issue"].startswith("placeholder"):
                lat, lon = 0.0, 0.0
            else:
                lat, lon = lon, lat
        attrs["profile"] = profile
        plan.sites.append(_site(
            id=d["id"], portfolio_id=region.portfolio_id, name=d["name"], kind=kind, latitude=lat, longitude=lon,
            capacity_mw=d["capacity_mw"], market=region.market, pricing_node=anchor.pricing_node,
            timezone=anchor.timezone, country=anchor.country, region=anchor.area, data_origin="derived",
            data_source=_derived_source(kind, region, profile, d.get("unit")),
            profile_key={"solar": "pv:derived", "wind": "wind:derived", "storage": "storage:smard",
                         "substation": "substation:sum"}[kind],
            commissioned_on=d["commissioned"], attributes=attrs,
        ))
        plan.assets.extend(_site_assets(d, lat, lon, tx_per_sub))
    return plan


def _site_assets(d: dict[str, Any], lat: float | None, lon: float | None, tx_per_sub: int) -> list[dict[str, Any]]:
    kind, site_id = d["kind"], d["id"]
    asset_kind, code = UNIT_CODE[kind]
    rng = random.Random(d["perf_seed"])
    on_map = lat is not None and lon is not None and "issue" not in d
    rows = []
    if kind == "substation":
        n_units, unit_kw = tx_per_sub, d["capacity_mw"] * 1000.0 / tx_per_sub
        make = ("Hitachi Energy", f"GSU {d['attributes']['voltage_kv']}/34.5 kV")
    else:
        n_units, unit_kw = d["units"], d["unit"][0]
        make = d["unit"][1:]
    width = max(3, len(str(n_units)))
    spread = 0.02 if kind == "wind" else 0.004
    for k in range(1, n_units + 1):
        attrs: dict[str, Any] = {}
        if kind in ("solar", "wind"):
            attrs["perf"] = round(rng.uniform(0.97, 1.01) if rng.random() > 0.03 else rng.uniform(0.85, 0.92), 3)
        if kind == "wind":
            attrs["source_turbine"] = LHB_TURBINES[(k - 1) % 4][0]
            attrs["ws_factor"] = round(rng.uniform(0.97, 1.03), 3)
        rows.append(_asset(
            id=f"{site_id}-{code}-{k:0{width}d}", site_id=site_id, name=f"{code}-{k:0{width}d}", kind=asset_kind,
            capacity_kw=unit_kw, manufacturer=make[0], model=make[1],
            latitude=round(lat + rng.uniform(-spread, spread), 5) if on_map else None,
            longitude=round(lon + rng.uniform(-spread, spread), 5) if on_map else None,
            attributes=attrs,
        ))
    rows.append(_asset(id=f"{site_id}-MTR-01", site_id=site_id, name="Revenue meter", kind="meter",
                       capacity_kw=d["capacity_mw"] * 1000.0, latitude=lat if on_map else None,
                       longitude=lon if on_map else None))
    return rows


# --- seeding ----------------------------------------------------------------------------------


def seed_demo_fleet(db: Any, n_assets: int, seed: int = 7) -> dict[str, Any]:
    """Replace the demo fleet in ``db`` with :func:`build_fleet` ``(n_assets, seed)``; return a summary.

    Derived demo sites (and their telemetry) are deleted and re-inserted; the real sites and
    their assets are upserted, so their telemetry survives a re-seed. Bulk core inserts: about
    2 s for 100,000 assets on SQLite. The summary holds the plan's counts plus ``seconds``.
    """
    from demo.seeding import write_plan

    started = time.perf_counter()
    plan = build_fleet(n_assets, seed)
    write_plan(db, plan, DEMO_PORTFOLIO_IDS, REAL_SITE_IDS)
    summary = plan.summary()
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary
