"""Output models of the demo fleet: kW (and site weather) for many assets at arbitrary UTC instants.

The real series of :mod:`demo.series` are mapped onto the current clock at the **same time of
year** (a site's ``day_offset`` shifts it by whole days; ``year`` picks one of the source years),
so the simulator replays them live. Models per ``Site.profile_key``:

``wind:lhb``       La Haute Borne: each turbine replays its own SCADA power (idle clipped to 0) and
                   nacelle wind speed; the meter carries the sum, the mean wind speed and temperature.
``pv:pvdaq50``     PVDAQ system 50 replays its measured AC power; meter: PSM3 GHI and temperature.
``pv:serf_east``   SERF East replays its measured AC power where the season is covered
                   (Jul-Oct); at other times of year its own measured clearness (looped over the
                   covered days) is applied to its pvlib clear-sky output.
``pv:derived``     measured PVDAQ clearness (measured / pvlib clear-sky output at Golden, normalised
                   to ~1 on clear days), taken at the same local solar time, times the site's own
                   pvlib clear-sky output (Ineichen + Linke climatology, PVWatts, DC/AC clipping).
                   Meter: estimated GHI (clearness x clear-sky GHI) and air temperature (PSM3 at
                   Golden for US sites, ERA5 at La Haute Borne for European ones, plus an offset).
``wind:derived``   La Haute Borne nacelle wind speed (one real turbine per model turbine, gaps filled)
                   x a site resource factor x a per-turbine factor, through the MM82 power curve
                   fitted from the SCADA, scaled to the turbine rating.
``storage:smard``  dispatch against the real SMARD day-ahead prices of the site's zone
                   (:mod:`demo.dispatch`); batteries report power and ``soc_pct``.
``substation:sum`` the summed output of the sites listed in ``attributes.profile.serves``.

Timestamps are instants in UTC epoch seconds; values are instantaneous (linear interpolation of
the interval averages, each placed at its interval midpoint). Power is kW, positive = export.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from demo import pvmodel
from demo.dispatch import DispatchSchedule, dispatch
from demo.series import (
    PVDAQ50_LAT,
    PVDAQ50_LON,
    DemoData,
    Grid,
)

YEAR_S = 365 * 86400
LHB_LON = 5.59
US_TEMPERATURE_SOURCE, EU_TEMPERATURE_SOURCE = "psm3", "era5"

PROFILE_KEYS = ("wind:lhb", "pv:pvdaq50", "pv:serf_east", "pv:derived", "wind:derived", "storage:smard",
                "substation:sum")


def _utc_year_start(t: np.ndarray) -> np.ndarray:
    return t.astype("datetime64[s]").astype("datetime64[Y]").astype("datetime64[s]").astype(np.int64)


def map_to_window(t_s: np.ndarray, window_start_s: int, n_years: int, day_offset: np.ndarray | int = 0,
                  year: np.ndarray | int = 0) -> np.ndarray:
    """Map instants onto the same time of year inside a source window of ``n_years`` 365-day years.

    ``window_start_s`` is Jan 1 00:00 UTC of the first source year; ``day_offset`` (days) and
    ``year`` (index into the window) broadcast against ``t_s``. The time of day in UTC is kept.
    """
    t = np.asarray(t_s, dtype=np.int64)
    into = (t - _utc_year_start(t) + np.asarray(day_offset, dtype=np.int64) * 86400) % YEAR_S
    return window_start_s + (np.asarray(year, dtype=np.int64) % n_years) * YEAR_S + into


def _sample(grid: Grid, values: np.ndarray, t_inst: np.ndarray) -> np.ndarray:
    """Sample interval averages (labelled by interval start) at instants: each sits at its midpoint."""
    return grid.interp(values, np.asarray(t_inst, dtype=np.float64) - grid.step_s / 2.0)


def _year_start_s(year: int) -> int:
    return int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp())


def _kind(value: Any) -> str:
    return str(getattr(value, "value", value))


@dataclass
class Evaluation:
    """Model output for ``times_s`` (n_t,): per metric, the asset rows it covers and their values.

    ``metrics[name] = (asset_index (k,), values (k, n_t))``; NaN means "no value" (a gap in a real
    series). ``asset_ids[i]`` names row i of the model.
    """

    times_s: np.ndarray
    asset_ids: list[str]
    metrics: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def values(self, metric: str, asset_id: str) -> np.ndarray:
        """Return the values (n_t,) of one asset and metric (NaN row when the asset lacks the metric)."""
        idx, vals = self.metrics.get(metric, (np.array([], dtype=np.int64), np.empty((0, len(self.times_s)))))
        where = np.flatnonzero(idx == self.asset_ids.index(asset_id))
        return vals[where[0]] if len(where) else np.full(len(self.times_s), np.nan)


class FleetModel:
    """Vectorised output model of a set of sites and assets (rows as dicts, e.g. from the DB).

    Site rows need ``id, kind, latitude, longitude, capacity_mw, profile_key, attributes``; asset
    rows need ``id, site_id, kind, capacity_kw, attributes``. Sites whose ``profile_key`` is not in
    :data:`PROFILE_KEYS` (e.g. real field devices) and their assets are ignored.
    """

    def __init__(self, sites: Iterable[Mapping[str, Any]], assets: Iterable[Mapping[str, Any]], data: DemoData) -> None:
        self.data = data
        self.sites = [dict(s) for s in sites if s.get("profile_key") in PROFILE_KEYS]
        site_pos = {s["id"]: i for i, s in enumerate(self.sites)}
        self.assets = [dict(a) for a in assets if a.get("site_id") in site_pos]
        self.asset_ids = [a["id"] for a in self.assets]
        self.asset_site = np.array([site_pos[a["site_id"]] for a in self.assets], dtype=np.int64)
        self.asset_kind = np.array([_kind(a["kind"]) for a in self.assets], dtype=object)
        self.asset_cap = np.array([float(a["capacity_kw"]) for a in self.assets], dtype=float)
        self.site_key = np.array([s["profile_key"] for s in self.sites], dtype=object)
        self.site_cap_kw = np.array([float(s["capacity_mw"]) * 1000.0 for s in self.sites], dtype=float)
        self.site_ids = [s["id"] for s in self.sites]
        self._site_pos = site_pos
        self.meter_rows = np.flatnonzero(self.asset_kind == "meter")
        self._schedules: dict[tuple[str, float], DispatchSchedule] = {}
        self._prepare()

    # -- set-up ------------------------------------------------------------------------------

    def _prof(self, i: int) -> dict[str, Any]:
        return dict((self.sites[i].get("attributes") or {}).get("profile") or {})

    def _asset_attr(self, j: int) -> dict[str, Any]:
        return dict(self.assets[j].get("attributes") or {})

    def _sites_with(self, *keys: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.site_key, keys))

    def _prepare(self) -> None:
        n_s = len(self.sites)
        self.day_offset = np.array([int(self._prof(i).get("day_offset", 0)) for i in range(n_s)], dtype=np.int64)
        self.src_year = np.array([int(self._prof(i).get("year", 0)) for i in range(n_s)], dtype=np.int64)
        gen = np.isin(self.asset_kind, ("inverter", "turbine", "battery"))
        self.gen_rows = np.flatnonzero(gen)
        self.perf = np.array([float(self._asset_attr(j).get("perf", 1.0)) for j in range(len(self.assets))])
        # PV derived (and SERF East out of season) -------------------------------------------
        self.pv_sites = self._sites_with("pv:derived", "pv:serf_east")
        lat, lon, tilt, az, dcac, alt, toff, tsrc, ksrc = [], [], [], [], [], [], [], [], []
        for i in self.pv_sites:
            p, s = self._prof(i), self.sites[i]
            la = p.get("model_lat", s.get("latitude"))
            lo = p.get("model_lon", s.get("longitude"))
            la = PVDAQ50_LAT if la is None or not -90 <= la <= 90 else la
            lo = PVDAQ50_LON if lo is None or not -180 <= lo <= 180 else lo
            lat.append(la)
            lon.append(lo)
            tilt.append(float(p.get("tilt", min(35.0, max(10.0, abs(la) * 0.7)))))
            az.append(float(p.get("azimuth", 180.0 if la >= 0 else 0.0)))
            dcac.append(float(p.get("dc_ac", 1.25)))
            alt.append(float(p.get("altitude_m", 200.0)))
            toff.append(float(p.get("temp_offset_c", 0.0)))
            tsrc.append(p.get("temperature_source", US_TEMPERATURE_SOURCE if lo < -30 else EU_TEMPERATURE_SOURCE))
            ksrc.append(1 if self.site_key[i] == "pv:serf_east" else 0)
        self.pv_lat, self.pv_lon = np.array(lat, float), np.array(lon, float)
        self.pv_tilt, self.pv_az, self.pv_dcac = np.array(tilt, float), np.array(az, float), np.array(dcac, float)
        self.pv_alt, self.pv_toff = np.array(alt, float), np.array(toff, float)
        self.pv_eu = np.array([t == EU_TEMPERATURE_SOURCE for t in tsrc], dtype=bool)
        self.pv_serf = np.array(ksrc, dtype=bool)
        self.pv_linke = (np.stack([pvmodel.linke_turbidity_monthly(a, b) for a, b in zip(lat, lon, strict=False)])
                         if lat else np.zeros((0, 12)))
        # wind derived: source turbine per asset -----------------------------------------------
        turbine_names = list(self.data.wind.turbines) if len(self._sites_with("wind:lhb", "wind:derived")) else []
        self.wind_src = np.zeros(len(self.assets), dtype=np.int64)
        self.wind_wsf = np.ones(len(self.assets))
        for j in np.flatnonzero(self.asset_kind == "turbine"):
            a = self._asset_attr(j)
            name = a.get("source_turbine")
            self.wind_src[j] = turbine_names.index(name) if name in turbine_names else j % max(1, len(turbine_names))
            self.wind_wsf[j] = float(a.get("ws_factor", 1.0))
        self.site_rf = np.array([float(self._prof(i).get("resource_factor", 1.0)) for i in range(n_s)])
        # storage ------------------------------------------------------------------------------
        self.site_zone = [str(self._prof(i).get("price_zone", "DE-LU")) for i in range(n_s)]
        self.site_duration = np.array([float(self._prof(i).get("duration_h", 2.0)) for i in range(n_s)])
        # substations --------------------------------------------------------------------------
        self.sub_sites = self._sites_with("substation:sum")
        self.sub_serves = {
            int(i): np.array([self._site_pos[x] for x in self._prof(i).get("serves", []) if x in self._site_pos],
                             dtype=np.int64)
            for i in self.sub_sites
        }

    def _schedule(self, zone: str, duration_h: float) -> DispatchSchedule:
        key = (zone, duration_h)
        if key not in self._schedules:
            prices = self.data.prices
            self._schedules[key] = dispatch(prices.zones.get(zone, prices.zones["DE-LU"]), duration_h)
        return self._schedules[key]

    # -- evaluation --------------------------------------------------------------------------

    def evaluate(self, times_s: Sequence[int] | np.ndarray) -> Evaluation:
        """Return every asset's metrics at the instants ``times_s`` (UTC epoch seconds)."""
        t = np.atleast_1d(np.asarray(times_s, dtype=np.int64))
        n_a, n_t = len(self.assets), len(t)
        power = np.full((n_a, n_t), np.nan)
        ws = np.full((n_a, n_t), np.nan)
        soc = np.full((n_a, n_t), np.nan)
        n_s = len(self.sites)
        site_irr = np.full((n_s, n_t), np.nan)
        site_temp = np.full((n_s, n_t), np.nan)
        site_ws = np.full((n_s, n_t), np.nan)
        site_soc = np.full((n_s, n_t), np.nan)
        self._eval_pv(t, power, site_irr, site_temp)
        self._eval_pv_measured(t, power, site_irr, site_temp)
        self._eval_wind(t, power, ws, site_ws, site_temp)
        self._eval_storage(t, power, soc, site_soc)
        # meters and substations --------------------------------------------------------------
        total = np.zeros((n_s, n_t))
        count = np.zeros((n_s, n_t))
        rows = self.gen_rows
        if len(rows):
            vals = power[rows]
            np.add.at(total, self.asset_site[rows], np.nan_to_num(vals))
            np.add.at(count, self.asset_site[rows], ~np.isnan(vals))
        total = np.where(count > 0, total, np.nan)
        for i, served in self.sub_serves.items():
            total[i] = np.nansum(total[served], axis=0) if len(served) else 0.0
        tx = np.flatnonzero(self.asset_kind == "transformer")
        if len(tx):
            n_tx = np.bincount(self.asset_site[tx], minlength=n_s)
            power[tx] = total[self.asset_site[tx]] / np.maximum(n_tx[self.asset_site[tx]], 1)[:, None]
        meters = self.meter_rows
        power[meters] = total[self.asset_site[meters]]
        out = Evaluation(t, self.asset_ids)
        out.metrics["power_kw"] = (np.arange(n_a), power)
        turb = np.flatnonzero(self.asset_kind == "turbine")
        bats = np.flatnonzero(self.asset_kind == "battery")
        m_site = self.asset_site[meters]
        out.metrics["wind_speed_ms"] = (np.concatenate([turb, meters]), np.vstack([ws[turb], site_ws[m_site]]))
        out.metrics["soc_pct"] = (np.concatenate([bats, meters]), np.vstack([soc[bats], site_soc[m_site]]))
        out.metrics["irradiance_wm2"] = (meters, site_irr[m_site])
        out.metrics["temperature_c"] = (meters, site_temp[m_site])
        return out

    def _rows_of(self, sites: np.ndarray, kinds: tuple[str, ...]) -> np.ndarray:
        return np.flatnonzero(np.isin(self.asset_site, sites) & np.isin(self.asset_kind, kinds))

    def _eval_pv(self, t: np.ndarray, power: np.ndarray, site_irr: np.ndarray, site_temp: np.ndarray) -> None:
        if not len(self.pv_sites):
            return
        d = self.data
        pv = d.pvdaq
        lon = self.pv_lon[:, None]
        offs = self.day_offset[self.pv_sites][:, None]
        # the same local solar time at Golden (PVDAQ) / La Haute Borne (ERA5)
        t_golden = t[None, :] + np.round((lon - PVDAQ50_LON) * 240.0).astype(np.int64)
        src = map_to_window(t_golden, _year_start_s(2012), 2, offs, self.src_year[self.pv_sites][:, None])
        k = _sample(pv.grid, pv.clearness, src)
        temp = _sample(pv.grid, pv.temp_c, src)
        if self.pv_eu.any():
            era = d.era5
            t_lhb = t[None, :] + np.round((lon - LHB_LON) * 240.0).astype(np.int64)
            src_e = map_to_window(t_lhb, _year_start_s(2014), 2, offs, self.src_year[self.pv_sites][:, None])
            temp = np.where(self.pv_eu[:, None], era.grid.interp(era.t_2m_c, src_e), temp)
        if self.pv_serf.any():  # SERF East out of season: its own clearness, looped over the covered days
            se = d.serf_east
            span_days = (se.grid.n * se.grid.step_s) // 86400 - 1
            first_day = se.grid.start_s // 86400 * 86400 + 86400
            t_serf = t[None, :] + np.round((lon - se.longitude) * 240.0).astype(np.int64)
            loop = first_day + ((t_serf - first_day) % (span_days * 86400))
            k = np.where(self.pv_serf[:, None], _sample(se.grid, se.clearness, loop), k)
        temp = np.nan_to_num(temp, nan=15.0) + self.pv_toff[:, None]
        per_kw, ghi = pvmodel.clearsky_pv(t, self.pv_lat, self.pv_lon, self.pv_tilt, self.pv_az, self.pv_dcac,
                                          self.pv_alt, self.pv_linke, temp_air_c=temp)
        k = np.nan_to_num(k, nan=0.8)
        norm = np.clip(k * per_kw, 0.0, 1.0)
        site_irr[self.pv_sites] = np.clip(k * ghi, 0.0, 1400.0)
        site_temp[self.pv_sites] = temp
        local = np.full(len(self.sites), -1, dtype=np.int64)
        local[self.pv_sites] = np.arange(len(self.pv_sites))
        rows = self._rows_of(self.pv_sites, ("inverter",))
        cap = self.asset_cap[rows][:, None]
        power[rows] = np.minimum(norm[local[self.asset_site[rows]]] * cap * self.perf[rows][:, None], cap)

    def _eval_pv_measured(self, t: np.ndarray, power: np.ndarray, site_irr: np.ndarray, site_temp: np.ndarray) -> None:
        for key in ("pv:pvdaq50", "pv:serf_east"):
            sites = self._sites_with(key)
            if not len(sites):
                continue
            series = self.data.pvdaq if key == "pv:pvdaq50" else self.data.serf_east
            first_year = int(np.datetime64(int(series.grid.start_s), "s").astype("datetime64[Y]").astype(int)) + 1970
            base_year = 2012 if key == "pv:pvdaq50" else first_year
            for i in sites:
                src = map_to_window(t, _year_start_s(base_year), 2 if key == "pv:pvdaq50" else 1,
                                    self.day_offset[i], self.src_year[i])
                covered = (src >= series.grid.start_s) & (src < series.grid.end_s - series.grid.step_s)
                ac = _sample(series.grid, series.ac_kw, src)
                rows = self._rows_of(np.array([i]), ("inverter",))
                scale = self.asset_cap[rows] / series.nameplate_ac_kw
                replay = ac[None, :] * scale[:, None]
                if key == "pv:serf_east":  # modelled out of season (already in power from _eval_pv)
                    power[rows] = np.where(covered[None, :], replay, power[rows])
                    site_irr[i] = np.where(covered, _sample(series.grid, series.ghi_wm2, src), site_irr[i])
                    site_temp[i] = np.where(covered, _sample(series.grid, series.temp_c, src), site_temp[i])
                else:
                    power[rows] = replay
                    site_irr[i] = _sample(series.grid, series.ghi_wm2, src)
                    site_temp[i] = _sample(series.grid, series.temp_c, src)

    def _eval_wind(self, t: np.ndarray, power: np.ndarray, ws: np.ndarray, site_ws: np.ndarray,
                   site_temp: np.ndarray) -> None:
        sites = self._sites_with("wind:lhb", "wind:derived")
        if not len(sites):
            return
        w = self.data.wind
        curve = self.data.power_curve
        window = _year_start_s(2014)
        src = map_to_window(t[None, :], window, 2, self.day_offset[sites][:, None], self.src_year[sites][:, None])
        local = np.full(len(self.sites), -1, dtype=np.int64)
        local[sites] = np.arange(len(sites))
        real = self.site_key[sites] == "wind:lhb"
        rows = self._rows_of(sites, ("turbine",))
        if not len(rows):
            return
        li = local[self.asset_site[rows]]
        j = self.wind_src[rows]
        filled = np.stack([_sample(w.grid, w.wind_ms_filled[k], src) for k in range(len(w.turbines))])
        raw_ws = np.stack([_sample(w.grid, w.wind_ms[k], src) for k in range(len(w.turbines))])
        raw_p = np.stack([_sample(w.grid, w.power_kw[k], src) for k in range(len(w.turbines))])
        is_real = real[li]
        rf = self.site_rf[self.asset_site[rows]] * self.wind_wsf[rows]
        v = np.where(is_real[:, None], raw_ws[j, li], filled[j, li] * rf[:, None])
        cap = self.asset_cap[rows][:, None]
        p_model = np.minimum(curve(v) / curve.rated_kw * cap * self.perf[rows][:, None], cap)
        p_real = raw_p[j, li] * (self.asset_cap[rows] / curve.rated_kw)[:, None]
        power[rows] = np.where(is_real[:, None], p_real, p_model)
        ws[rows] = v
        acc = np.zeros((len(self.sites), len(t)))
        cnt = np.zeros((len(self.sites), len(t)))
        np.add.at(acc, self.asset_site[rows], np.nan_to_num(v))
        np.add.at(cnt, self.asset_site[rows], ~np.isnan(v))
        with np.errstate(invalid="ignore"):
            site_ws[sites] = np.where(cnt[sites] > 0, acc[sites] / np.maximum(cnt[sites], 1), np.nan)
        for i in sites[real]:
            with np.errstate(invalid="ignore"):
                temps = np.stack([_sample(w.grid, w.temp_c[k], src[local[i]]) for k in range(len(w.turbines))])
                cnt_t = (~np.isnan(temps)).sum(axis=0)
                site_temp[i] = np.where(cnt_t > 0, np.nansum(temps, axis=0) / np.maximum(cnt_t, 1), np.nan)

    def _eval_storage(self, t: np.ndarray, power: np.ndarray, soc: np.ndarray, site_soc: np.ndarray) -> None:
        sites = self._sites_with("storage:smard")
        if not len(sites):
            return
        hours_per_year = 8760
        n_years = len(self.data.prices.times_s) // hours_per_year
        for i in sites:
            sched = self._schedule(self.site_zone[i], float(self.site_duration[i]))
            into = (t - _utc_year_start(t) + self.day_offset[i] * 86400) % YEAR_S
            h = (into // 3600) + (self.src_year[i] % max(n_years, 1)) * hours_per_year
            frac_h = (into % 3600) / 3600.0
            f = sched.power_frac[h]
            s = sched.soc_pct[h] * (1.0 - frac_h) + sched.soc_pct[h + 1] * frac_h
            rows = self._rows_of(np.array([i]), ("battery",))
            power[rows] = f[None, :] * self.asset_cap[rows][:, None]
            soc[rows] = s[None, :]
            site_soc[i] = s

    # -- points ------------------------------------------------------------------------------

    def points(self, evaluation: Evaluation, rows: np.ndarray | None = None, decimals: int = 3) -> list:
        """Return the finite values of ``evaluation`` as ingest ValidPoints (optionally only asset ``rows``)."""
        from ingest.validation import ValidPoint

        wanted = None if rows is None else np.zeros(len(self.assets), dtype=bool)
        if wanted is not None:
            wanted[np.asarray(rows, dtype=np.int64)] = True
        stamps = [dt.datetime.fromtimestamp(int(x), tz=dt.UTC) for x in evaluation.times_s]
        out: list[ValidPoint] = []
        for metric, (idx, vals) in evaluation.metrics.items():
            if wanted is not None:
                keep = wanted[idx]
                idx, vals = idx[keep], vals[keep]
            if not len(idx):
                continue
            r, c = np.nonzero(np.isfinite(vals))
            rounded = np.round(vals[r, c], decimals)
            ids = self.asset_ids
            out.extend(
                ValidPoint(ids[a], metric, stamps[ci], float(v) + 0.0)
                for a, ci, v in zip(idx[r].tolist(), c.tolist(), rounded.tolist(), strict=False)
            )
        return out
