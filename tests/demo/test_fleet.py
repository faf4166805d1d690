"""The demo fleet plan (determinism, scaling, honest labels, real nodes) and seeding into the store."""
from __future__ import annotations

import datetime as dt
import re
import zipfile

import pytest
from sqlalchemy import func, select

from core.settings import REPO_ROOT
from data.models import Asset, AssetLatest, Event, Portfolio, Site, TelemetryPoint
from demo.fleet import REAL_SITE_IDS, build_fleet, seed_demo_fleet
from demo.series import SMARD_ZONES

BOXES = {  # (lat_min, lat_max, lon_min, lon_max) of each market's land area
    "ERCOT": (25.8, 36.5, -106.7, -93.5),
    "CAISO": (32.5, 42.0, -124.5, -114.0),
    "EPEX": (42.0, 58.0, -2.0, 24.0),
}


def test_build_fleet_is_deterministic() -> None:
    a, b = build_fleet(1000), build_fleet(1000)
    assert a.sites == b.sites and a.assets == b.assets and a.portfolios == b.portfolios
    assert build_fleet(1000, seed=8).sites != a.sites


@pytest.mark.parametrize("n", [13, 100, 400, 1000, 10_000, 100_000])
def test_asset_count_is_exact(n: int) -> None:
    plan = build_fleet(n)
    assert len(plan.assets) == n
    assert len({a["id"] for a in plan.assets}) == n
    assert len({s["id"] for s in plan.sites}) == len(plan.sites)
    site_ids = {s["id"] for s in plan.sites}
    assert all(a["site_id"] in site_ids for a in plan.assets)


def test_tiny_fleets_hold_the_real_sites() -> None:
    plan = build_fleet(10)
    assert [s["id"] for s in plan.sites] == list(REAL_SITE_IDS) and len(plan.assets) == 9


def test_sites_scale_and_mix() -> None:
    small, large = build_fleet(100).summary(), build_fleet(10_000).summary()
    assert 15 <= small["sites"] <= 30 and 250 <= large["sites"] <= 400
    for summary in (small, large):
        assert set(summary["sites_by_kind"]) == {"solar", "wind", "storage", "substation"}
        assert set(summary["sites_by_portfolio"]) == {"fl-measured", "fl-ercot", "fl-caiso", "fl-europe"}


def test_real_sites_are_labelled_measured() -> None:
    plan = build_fleet(400)
    sites = {s["id"]: s for s in plan.sites}
    lhb = sites["FR-LHB"]
    assert lhb["data_origin"] == "measured" and lhb["market"] == "EPEX" and lhb["pricing_node"] == "FR"
    assert lhb["timezone"] == "Europe/Paris" and lhb["capacity_mw"] == 8.2
    assert "Etalab" in lhb["data_source"] and "OpenOA" in lhb["data_source"]
    turbines = [a for a in plan.assets if a["site_id"] == "FR-LHB" and a["kind"] == "turbine"]
    assert {(a["name"], a["latitude"], a["longitude"]) for a in turbines} == {
        ("R80711", 48.4569, 5.5847), ("R80721", 48.4497, 5.5869), ("R80736", 48.4461, 5.5925), ("R80790", 48.4536, 5.5875)}
    assert all(a["capacity_kw"] == 2050 for a in turbines)
    for sid in ("US-PVDAQ50", "US-SERFE"):
        assert sites[sid]["data_origin"] == "measured" and sites[sid]["market"] == "PSCO"
        assert sites[sid]["timezone"] == "America/Denver"


def test_every_derived_site_says_what_it_derives_from() -> None:
    plan = build_fleet(1000)
    for s in plan.sites:
        if s["id"] in REAL_SITE_IDS:
            continue
        assert s["data_origin"] == "derived"
        assert s["data_source"].startswith("Derived demo data")
        assert s["profile_key"] in ("pv:derived", "wind:derived", "storage:smard", "substation:sum")
    sources = " ".join(s["data_source"] for s in plan.sites)
    assert "PVDAQ" in sources and "La Haute Borne" in sources and "SMARD" in sources


def test_one_meter_per_site_and_asset_id_pattern() -> None:
    plan = build_fleet(1000)
    meters = [a for a in plan.assets if a["kind"] == "meter"]
    assert sorted(a["site_id"] for a in meters) == sorted(s["id"] for s in plan.sites)
    pattern = re.compile(r"^[A-Z]+-[A-Z0-9]+(-\d{4})?-(INV|WTG|BAT|TX|MTR)-(\d{2,}|R\d+)$")
    assert all(pattern.match(a["id"]) for a in plan.assets), [a["id"] for a in plan.assets if not pattern.match(a["id"])][:5]


def test_capacities_and_units_are_consistent() -> None:
    plan = build_fleet(10_000)
    by_site: dict[str, float] = {}
    for a in plan.assets:
        if a["kind"] in ("inverter", "turbine", "battery"):
            by_site[a["site_id"]] = by_site.get(a["site_id"], 0.0) + a["capacity_kw"]
    for s in plan.sites:
        if s["kind"] in ("solar", "wind", "storage") and s["id"] not in REAL_SITE_IDS:
            assert by_site[s["id"]] == pytest.approx(s["capacity_mw"] * 1000.0)
            assert s["capacity_mw"] <= 420


def test_coordinates_on_land_in_region_or_flagged() -> None:
    plan = build_fleet(1000)
    flagged = [s for s in plan.sites if "coordinate_issue" in s["attributes"]]
    assert len(flagged) == 3
    kinds = {s["attributes"]["coordinate_issue"].split(":")[0].split(" ")[0] for s in flagged}
    assert kinds == {"missing", "placeholder", "latitude"}
    for s in plan.sites:
        if s in flagged or s["market"] == "PSCO":
            continue
        lo_lat, hi_lat, lo_lon, hi_lon = BOXES[s["market"]]
        assert lo_lat <= s["latitude"] <= hi_lat and lo_lon <= s["longitude"] <= hi_lon, s["id"]
    for s in flagged:  # the model still knows where the plant is
        assert "model_lat" in s["attributes"]["profile"]


def test_pricing_nodes_are_real() -> None:
    plan = build_fleet(2000)
    ercot_fixture = (REPO_ROOT / "tests/fixtures/ercot/dam_spp_np4-190-cd_2017-02-14.csv").read_text()
    ercot_nodes = {line.split(",")[2] for line in ercot_fixture.splitlines()[1:]}
    with zipfile.ZipFile(REPO_ROOT / "tests/fixtures/caiso_oasis/SingleZip_PRC_LMP_DAM_ALL_APNODES_20200101.zip") as z:
        with z.open(z.namelist()[0]) as fh:
            head = fh.read(4_000_000).decode()
    for s in plan.sites:
        if s["market"] == "ERCOT":
            assert s["pricing_node"] in ercot_nodes
        elif s["market"] == "CAISO":
            assert f",{s['pricing_node']}," in head or s["pricing_node"].startswith("TH_")
        elif s["market"] == "EPEX":
            assert s["pricing_node"] in SMARD_ZONES
    caiso = {s["pricing_node"] for s in plan.sites if s["market"] == "CAISO"}
    assert caiso == {"TH_NP15_GEN-APND", "TH_ZP26_GEN-APND", "TH_SP15_GEN-APND"}


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="n_assets"):
        build_fleet(0)


# --- seeding ------------------------------------------------------------------------------


def _counts(db) -> tuple[int, int, int]:
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(Portfolio)), s.scalar(select(func.count()).select_from(Site)),
                s.scalar(select(func.count()).select_from(Asset)))


def test_seed_writes_the_plan(db) -> None:
    summary = seed_demo_fleet(db, 400)
    assert summary["assets"] == 400 and summary["portfolios"] == 4
    assert _counts(db) == (4, summary["sites"], 400)
    with db.session() as s:
        lhb = s.get(Site, "FR-LHB")
        assert lhb.data_origin == "measured" and lhb.attributes["profile"] == {"year": 1}
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "demo.seeded")) == 1
        missing = s.scalars(select(Site).where(Site.latitude.is_(None))).all()
        assert missing and all("coordinate_issue" in m.attributes for m in missing)


def test_reseed_is_idempotent_and_keeps_real_telemetry(db) -> None:
    first = seed_demo_fleet(db, 400)
    ts = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    derived_asset = next(a["id"] for a in build_fleet(400).assets if a["site_id"] not in REAL_SITE_IDS)
    with db.session() as s:
        s.add_all([TelemetryPoint(asset_id="FR-LHB-WTG-R80711", metric="power_kw", ts=ts, value=1.0),
                   TelemetryPoint(asset_id=derived_asset, metric="power_kw", ts=ts, value=2.0),
                   AssetLatest(asset_id=derived_asset, metric="power_kw", ts=ts, value=2.0)])
    again = seed_demo_fleet(db, 400)
    assert _counts(db) == (4, first["sites"], 400) == (4, again["sites"], 400)
    with db.session() as s:
        kept = s.scalars(select(TelemetryPoint.asset_id)).all()
    assert kept == ["FR-LHB-WTG-R80711"]
    bigger = seed_demo_fleet(db, 1000)
    assert _counts(db) == (4, bigger["sites"], 1000)
    smaller = seed_demo_fleet(db, 100)
    assert _counts(db) == (4, smaller["sites"], 100)


def test_seed_keeps_other_portfolios(db) -> None:
    with db.session() as s:
        s.add(Portfolio(id="customer", name="A customer"))
        s.add(Site(id="c-1", portfolio_id="customer", name="Real plant", kind="solar", capacity_mw=1.0, market="ERCOT"))
    seed_demo_fleet(db, 100)
    seed_demo_fleet(db, 100)
    with db.session() as s:
        assert s.get(Site, "c-1") is not None
