"""Loaders of the real series in ``demo_data/`` (see ``demo_data/SOURCES.md``), cleaned and cached.

Every series is put on a regular UTC grid (:class:`Grid`; label = **interval start**, epoch
seconds) with NaN where the source has no value. Cleaning follows the quirks listed in SOURCES.md:

* La Haute Borne SCADA (10 min, 4 Senvion MM82): the duplicated UTC stamps of the spring DST
  change are dropped (the first row is kept: it continues the preceding values), all-NaN rows stay
  NaN on the grid, ``Ot_avg`` sensor faults (-273.2, -92.02; anything below -40 degC) become NaN,
  negative idle power is clipped to 0 (``power_kw``; the raw values stay in ``power_kw_raw``).
  The source does not say whether a label is start or end; it is treated as interval start.
* PVDAQ system 50 (15 min, W): the clock reads America/Denver local time although every stamp
  carries -07:00, and a stamp marks the END of its 15-min average. Stamps are re-read as
  America/Denver (ambiguous/non-existent local times dropped), moved to interval start, W -> kW.
  Nameplate of channel ``ac_power_2``: ~2.7 kW AC / ~3 kW DC (:data:`PVDAQ50_AC_KW`).
* SERF East (15 min, W, Jul-Oct 2016): its solar noon shows the -07:00 offset is true MST; stamps
  are treated like PVDAQ's (interval end). Negative night values are clipped to 0.
* PSM3 weather (satellite model): instants on fixed -07:00 (MST) stamps; ``temp_air`` is clipped
  at 0 degC in the source (kept as is; documented upstream quirk).
* SMARD day-ahead prices (EUR/MWh, hourly, hour-beginning UTC, years 2015 and 2018): the German
  zone is DE-AT-LU until 2018-09-30T21:00Z then DE-LU (merged into ``DE-LU``); Austria before the
  2018-10 split is the joint DE-AT-LU price. Short gaps (DE 2015-01-01..04) are filled with the
  price of the same hour one week later (up to 4 weeks); empty zones (Belgium, Norway 2) are dropped.

Parsing takes about 1 s; the result is cached as ``.npz`` under the cache folder (default
``<instance_dir>/demo_cache``) and re-used while the source files are unchanged (about 30 ms).
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from demo import pvmodel

log = logging.getLogger(__name__)

CACHE_VERSION = 3

WIND_SCADA = "wind/la_haute_borne_scada_2014_2015_10min.csv.gz"
WIND_TURBINES = "wind/la_haute_borne_turbines.csv"
WIND_ERA5 = "wind/la_haute_borne_era5_2014_2015_hourly.csv.gz"
PVDAQ_POWER = "solar/pvdaq_system50_ac_power_2011_2013_15min.csv.gz"
PVDAQ_PSM3 = "solar/pvdaq_system50_psm3_weather_2011_2013_30min.csv.gz"
SERF_POWER = "solar/serf_east_ac_power_2016_15min.csv.gz"
SERF_PSM3 = "solar/serf_east_psm3_weather_2016_15min.csv.gz"
SMARD_PRICES = "market/smard_day_ahead_prices_2015_2018_hourly_utc.csv.gz"

# PVDAQ system 50 at NREL, Golden CO (pvanalytics example metadata)
PVDAQ50_LAT, PVDAQ50_LON, PVDAQ50_ALT_M = 39.7406, -105.1775, 1800.0
PVDAQ50_TILT, PVDAQ50_AZIMUTH = 45.0, 158.0
PVDAQ50_AC_KW = 2.7  # channel ac_power_2: ~2.7 kW AC at STC on clear days (SOURCES.md)
PVDAQ50_DC_KW = 3.0
SERF_LAT, SERF_LON = 39.742, -105.1727
SERF_TILT, SERF_AZIMUTH = 45.0, 158.0

SMARD_ZONES: dict[str, str] = {
    "DE-LU": "Germany/Luxembourg",
    "AT": "Austria",
    "DK1": "Denmark 1",
    "DK2": "Denmark 2",
    "FR": "France",
    "IT-NORD": "Northern Italy",
    "NL": "Netherlands",
    "PL": "Poland",
    "SE4": "Sweden 4",
    "CH": "Switzerland",
    "SI": "Slovenia",
    "CZ": "Czech Republic",
    "HU": "Hungary",
}
_DE_AT_LU = "Germany/Austria/Luxembourg"
_CLEARNESS_MIN_CLEAR = 0.05  # kW/kW: below this clear-sky output the clearness ratio is not computed
_CLEARNESS_MAX = 1.3


# --- regular grids -------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """A regular UTC time grid: ``n`` labels ``start_s + i * step_s`` (epoch seconds, interval start)."""

    start_s: int
    step_s: int
    n: int

    @property
    def end_s(self) -> int:
        """Return the end of the last interval (exclusive), epoch seconds."""
        return self.start_s + self.step_s * self.n

    def times(self) -> np.ndarray:
        """Return the interval-start labels as int64 epoch seconds."""
        return self.start_s + self.step_s * np.arange(self.n, dtype=np.int64)

    def index_of(self, t_s: np.ndarray) -> np.ndarray:
        """Return the integer positions of the labels ``t_s`` (must lie on the grid)."""
        return ((np.asarray(t_s, dtype=np.int64) - self.start_s) // self.step_s).astype(np.int64)

    def interp(self, values: np.ndarray, t_s: np.ndarray) -> np.ndarray:
        """Linearly interpolate ``values`` (last axis on this grid) at instants ``t_s``.

        Samples are taken to sit at the interval labels. Instants outside the grid give NaN; a NaN
        neighbour gives NaN. ``t_s`` may have any shape; the result has shape
        ``values.shape[:-1] + t_s.shape``.
        """
        t = np.asarray(t_s, dtype=np.float64)
        pos = (t - self.start_s) / self.step_s
        outside = (pos < 0) | (pos > self.n - 1)
        pos = np.clip(pos, 0, self.n - 1)
        i0 = np.floor(pos).astype(np.int64)
        i1 = np.minimum(i0 + 1, self.n - 1)
        w = pos - i0
        v = np.asarray(values)
        lo, hi = v[..., i0], v[..., i1]
        out = np.where(w == 0.0, lo, lo * (1.0 - w) + hi * w)
        return np.where(outside, np.nan, out)


def _epoch_s(ts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Return tz-aware timestamps as int64 epoch seconds."""
    idx = pd.DatetimeIndex(ts)
    return (idx.tz_convert("UTC").as_unit("s").asi8).astype(np.int64)


def _on_grid(t_s: np.ndarray, values: np.ndarray, grid: Grid) -> np.ndarray:
    """Place ``values`` (rows aligned with unique stamps ``t_s``) on ``grid``; NaN elsewhere."""
    out = np.full((grid.n,) + values.shape[1:], np.nan, dtype=np.float32)
    pos = grid.index_of(t_s)
    ok = (pos >= 0) & (pos < grid.n) & ((t_s - grid.start_s) % grid.step_s == 0)
    out[pos[ok]] = values[ok]
    return out


# --- cache ---------------------------------------------------------------------------------


def _cache_key(paths: list[Path], extra: str = "") -> str:
    h = hashlib.sha256(f"v{CACHE_VERSION}|{extra}".encode())
    for p in paths:
        st = p.stat()
        h.update(f"|{p.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _cached(cache_dir: Path | None, name: str, sources: list[Path], build: Callable[[], dict[str, np.ndarray]],
            extra: str = "") -> dict[str, np.ndarray]:
    """Return the arrays of ``build()``, read from / written to ``cache_dir/name-<key>.npz``."""
    for p in sources:
        if not p.is_file():
            raise FileNotFoundError(f"demo data file missing: {p} (see demo_data/SOURCES.md)")
    if cache_dir is None:
        return build()
    key = _cache_key(sources, extra)
    path = cache_dir / f"{name}-{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (OSError, ValueError):
            log.warning("demo cache %s unreadable; rebuilding", path)
    arrays = build()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for old in cache_dir.glob(f"{name}-*.npz"):
            old.unlink(missing_ok=True)
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)
    except OSError as exc:  # a read-only instance folder only costs speed
        log.warning("could not write demo cache %s: %s", path, exc)
    return arrays


# --- series --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurbineInfo:
    """One row of the La Haute Borne asset table (WGS84 coordinates, kW, m)."""

    name: str
    latitude: float
    longitude: float
    elevation_m: float
    rated_kw: float
    hub_height_m: float
    rotor_diameter_m: float
    manufacturer: str
    model: str


@dataclass(frozen=True)
class WindScada:
    """La Haute Borne SCADA on a 10-min grid; arrays have shape (4 turbines, n), float32.

    ``power_kw`` (negative idle clipped to 0), ``power_kw_raw``, ``wind_ms`` (nacelle),
    ``direction_deg`` (absolute wind direction), ``temp_c`` (outdoor; faults removed).
    ``wind_ms_filled`` has gaps filled (farm mean of the other turbines, then linear in time),
    for models that need a continuous wind speed.
    """

    turbines: tuple[str, ...]
    grid: Grid
    power_kw: np.ndarray
    power_kw_raw: np.ndarray
    wind_ms: np.ndarray
    direction_deg: np.ndarray
    temp_c: np.ndarray
    wind_ms_filled: np.ndarray
    duplicates_removed: int
    temp_faults_removed: int


@dataclass(frozen=True)
class PowerCurve:
    """A turbine power curve: ``power_kw`` at wind speeds ``wind_ms`` (linear between points)."""

    wind_ms: np.ndarray
    power_kw: np.ndarray
    rated_kw: float
    cut_out_ms: float = 25.0

    def __call__(self, ws: np.ndarray) -> np.ndarray:
        """Return power [kW] at wind speeds ``ws`` [m/s]; 0 at and above cut-out, NaN stays NaN."""
        w = np.asarray(ws, dtype=float)
        p = np.interp(w, self.wind_ms, self.power_kw, left=0.0, right=float(self.power_kw[-1]))
        p = np.where(w >= self.cut_out_ms, 0.0, p)
        return np.where(np.isnan(w), np.nan, p)


@dataclass(frozen=True)
class Era5:
    """ERA5 reanalysis at La Haute Borne on an hourly grid: 100 m wind [m/s], 2 m temperature [degC]."""

    grid: Grid
    ws_100m: np.ndarray
    t_2m_c: np.ndarray


@dataclass(frozen=True)
class PvSeries:
    """A measured PV system on a 15-min grid (interval start), all float32 of shape (n,).

    ``ac_kw``: measured AC power (negatives clipped to 0), NaN where missing. ``clear_kw``: pvlib
    clear-sky AC output of the same system (kW). ``clearness``: ac_kw / clear_kw where the clear-sky
    output exceeds 5 % of nameplate, clipped to [0, 1.3], gaps filled linearly in time.
    ``ghi_wm2`` / ``temp_c``: PSM3 satellite-model weather interpolated to the grid.
    """

    name: str
    grid: Grid
    ac_kw: np.ndarray
    clear_kw: np.ndarray
    clearness: np.ndarray
    ghi_wm2: np.ndarray
    temp_c: np.ndarray
    nameplate_ac_kw: float
    nameplate_dc_kw: float
    latitude: float
    longitude: float
    tilt: float
    azimuth: float


@dataclass(frozen=True)
class DayAheadPrices:
    """SMARD day-ahead prices [EUR/MWh], hourly, hour-beginning UTC, for 2015 and 2018 back to back.

    ``times_s`` (17520,) is not contiguous (2015 then 2018); ``zones`` maps a bidding-zone code
    (:data:`SMARD_ZONES`) to a float array aligned with ``times_s``.
    """

    times_s: np.ndarray
    zones: dict[str, np.ndarray]
    years: tuple[int, ...]


def _read_scada(path: Path) -> dict[str, np.ndarray]:
    df = pd.read_csv(path, usecols=["time_utc", "turbine", "P_avg", "Ws_avg", "Wa_avg", "Ot_avg"], engine="pyarrow")
    df["t"] = _epoch_s(pd.to_datetime(df["time_utc"], utc=True, format="ISO8601"))
    before = len(df)
    df = df.drop_duplicates(["t", "turbine"], keep="first")
    duplicates = before - len(df)
    faults = int((df["Ot_avg"] < -40).sum())
    df.loc[df["Ot_avg"] < -40, "Ot_avg"] = np.nan
    turbines = sorted(df["turbine"].astype(str).unique())
    start = int(df["t"].min())
    n = int((df["t"].max() - start) // 600 + 1)
    grid = Grid(start, 600, n)
    cols = {"P_avg": [], "Ws_avg": [], "Wa_avg": [], "Ot_avg": []}
    for name in turbines:
        part = df[df["turbine"] == name]
        t = part["t"].to_numpy(np.int64)
        for col in cols:
            cols[col].append(_on_grid(t, part[col].to_numpy(np.float32), grid))
    raw_p = np.stack(cols["P_avg"])
    wind = np.stack(cols["Ws_avg"])
    with np.errstate(invalid="ignore"):
        counts = (~np.isnan(wind)).sum(axis=0)
        farm = np.where(counts > 0, np.nansum(wind, axis=0) / np.maximum(counts, 1), np.nan)
    filled = np.where(np.isnan(wind), farm, wind)
    times = grid.times()
    for i in range(filled.shape[0]):
        ok = ~np.isnan(filled[i])
        filled[i] = np.interp(times, times[ok], filled[i][ok])
    return {
        "turbines": np.array(turbines), "grid": np.array([grid.start_s, grid.step_s, grid.n]),
        "power_kw_raw": raw_p, "wind_ms": wind, "direction_deg": np.stack(cols["Wa_avg"]),
        "temp_c": np.stack(cols["Ot_avg"]), "wind_ms_filled": filled.astype(np.float32),
        "stats": np.array([duplicates, faults]),
    }


def fit_power_curve(wind_ms: np.ndarray, power_kw: np.ndarray, rated_kw: float, bin_ms: float = 0.5,
                    min_samples: int = 30, cut_out_ms: float = 25.0) -> PowerCurve:
    """Fit a power curve as the binned median of power vs wind speed (bins of ``bin_ms`` m/s).

    Bins with fewer than ``min_samples`` points are skipped; the curve is made non-decreasing and
    capped at ``rated_kw``; above the last populated bin it holds its last value up to ``cut_out_ms``.
    """
    w = np.asarray(wind_ms, dtype=float).ravel()
    p = np.asarray(power_kw, dtype=float).ravel()
    ok = ~(np.isnan(w) | np.isnan(p))
    w, p = w[ok], np.clip(p[ok], 0.0, rated_kw)
    edges = np.arange(0.0, cut_out_ms + bin_ms, bin_ms)
    which = np.digitize(w, edges) - 1
    centres, medians = [0.0], [0.0]
    for b in range(len(edges) - 1):
        sel = p[which == b]
        if len(sel) >= min_samples:
            centres.append((edges[b] + edges[b + 1]) / 2)
            medians.append(float(np.median(sel)))
    curve = np.minimum(np.maximum.accumulate(np.array(medians)), rated_kw)
    ws = np.array(centres)
    if ws[-1] < cut_out_ms - bin_ms:
        ws = np.append(ws, cut_out_ms - 1e-6)
        curve = np.append(curve, curve[-1])
    return PowerCurve(ws, curve, float(rated_kw), cut_out_ms)


def _read_pvdaq(path: Path, psm3_path: Path) -> dict[str, np.ndarray]:
    df = pd.read_csv(path)
    local = pd.to_datetime(df["measured_on"].str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
    stamps = pd.DatetimeIndex(local).tz_localize("America/Denver", ambiguous="NaT", nonexistent="NaT")
    keep = ~stamps.isna()
    t_end = _epoch_s(stamps[keep])
    watts = df["ac_power_2"].to_numpy(np.float64)[keep]
    t = t_end - 900  # label = END of the 15-min average -> interval start
    order = np.argsort(t, kind="stable")
    t, watts = t[order], watts[order]
    uniq = np.concatenate([[True], np.diff(t) != 0])
    t, watts = t[uniq], watts[uniq]
    start = int(t.min() // 86400 * 86400)
    grid = Grid(start, 900, int((t.max() - start) // 900 + 1))
    ac_kw = _on_grid(t, np.clip(watts / 1000.0, 0.0, None).astype(np.float32), grid)
    weather = _psm3_on_grid(psm3_path, "time", grid)
    return {"grid": np.array([grid.start_s, grid.step_s, grid.n]), "ac_kw": ac_kw, **weather}


def _read_serf(path: Path, psm3_path: Path) -> dict[str, np.ndarray]:
    df = pd.read_csv(path)
    t_end = _epoch_s(pd.to_datetime(df["measured_on"], format="ISO8601", utc=True))
    t = t_end - 900
    start = int(t.min())
    grid = Grid(start, 900, int((t.max() - start) // 900 + 1))
    ac_kw = _on_grid(t, np.clip(df["ac_power"].to_numpy(np.float64) / 1000.0, 0.0, None).astype(np.float32), grid)
    weather = _psm3_on_grid(psm3_path, "measured_on", grid)
    return {"grid": np.array([grid.start_s, grid.step_s, grid.n]), "ac_kw": ac_kw, **weather}


def _psm3_on_grid(path: Path, time_col: str, grid: Grid) -> dict[str, np.ndarray]:
    """PSM3 values are instants at fixed -07:00 stamps; sample them at the grid's interval midpoints."""
    w = pd.read_csv(path)
    t = _epoch_s(pd.to_datetime(w[time_col], format="ISO8601", utc=True))
    mid = grid.times() + grid.step_s // 2
    out = {}
    for col, name in (("ghi", "ghi_wm2"), ("temp_air", "temp_c")):
        v = w[col].to_numpy(np.float64)
        ok = ~np.isnan(v)
        vals = np.interp(mid, t[ok], v[ok], left=np.nan, right=np.nan)
        out[name] = vals.astype(np.float32)
    return out


def clearness_index(t_s: np.ndarray, ac_kw: np.ndarray, clear_kw: np.ndarray, nameplate_ac_kw: float) -> np.ndarray:
    """Return the measured clearness: measured / clear-sky output, normalised so clear days are ~1.

    ``t_s``: interval labels (epoch s). The raw ratio is computed where the clear-sky output exceeds
    5 % of ``nameplate_ac_kw``; it is divided by a clear-day envelope (centred 31-day median of the
    daily 90th percentile of the ratio around midday), which removes the seasonal bias of the
    simple system model; the result is clipped to [0, 1.3] and gaps (night, missing data) are
    filled linearly in time. NaN-free; all-missing input gives 1.0.
    """
    ac = np.asarray(ac_kw, dtype=float)
    clear = np.asarray(clear_kw, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(clear > _CLEARNESS_MIN_CLEAR * nameplate_ac_kw, ac / clear, np.nan)
        day = (np.asarray(t_s, dtype=np.int64) - int(t_s[0])) // 86400
        strong = np.where(clear > 0.3 * np.nanmax(clear), k, np.nan)
        n_days = int(day.max()) + 1
        daily = np.full(n_days, np.nan)
        for d in np.unique(day[~np.isnan(strong)]):
            daily[d] = np.nanpercentile(strong[day == d], 90)
        envelope = pd.Series(daily).rolling(31, center=True, min_periods=5).median()
        envelope = envelope.interpolate(limit_direction="both").to_numpy()
        if np.isnan(envelope).all():
            envelope = np.ones(n_days)
        k = k / np.clip(envelope[day], 0.3, 3.0)
    k = np.clip(k, 0.0, _CLEARNESS_MAX)
    ok = ~np.isnan(k)
    if not ok.any():
        return np.ones_like(k, dtype=np.float32)
    x = np.arange(len(k))
    return np.interp(x, x[ok], k[ok]).astype(np.float32)


def _read_prices(path: Path) -> dict[str, np.ndarray]:
    df = pd.read_csv(path)
    t = _epoch_s(pd.to_datetime(df["time_utc"], format="ISO8601", utc=True))
    years = pd.DatetimeIndex(pd.to_datetime(t + 3600, unit="s", utc=True)).year.to_numpy()  # CET years
    out: dict[str, np.ndarray] = {"times_s": t, "years": np.unique(years)}
    joint = df[_DE_AT_LU].to_numpy(np.float64)
    for code, col in SMARD_ZONES.items():
        v = df[col].to_numpy(np.float64) if col in df else np.full(len(df), np.nan)
        if code in ("DE-LU", "AT"):
            v = np.where(np.isnan(v), joint, v)
        if np.isnan(v).all():
            continue
        for _ in range(4):  # same hour one week later
            later = np.concatenate([v[168:], np.full(168, np.nan)])
            v = np.where(np.isnan(v), later, v)
        for _ in range(4):  # ... or one week earlier at the end of the span
            earlier = np.concatenate([np.full(168, np.nan), v[:-168]])
            v = np.where(np.isnan(v), earlier, v)
        if np.isnan(v).any():
            ok = ~np.isnan(v)
            v = np.interp(np.arange(len(v)), np.flatnonzero(ok), v[ok])
        out[f"zone:{code}"] = v
    return out


# --- the loader object ---------------------------------------------------------------------


class DemoData:
    """Lazily loaded, cached real series of ``data_dir`` (thread-safe; each series loads once).

    ``cache_dir`` None disables the on-disk cache.
    """

    def __init__(self, data_dir: Path, cache_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._lock = threading.RLock()
        self._memo: dict[str, object] = {}

    def _get(self, key: str, make: Callable[[], object]) -> object:
        with self._lock:
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]

    def path(self, relative: str) -> Path:
        """Return the absolute path of a file in the data folder."""
        return self.data_dir / relative

    @property
    def turbines(self) -> list[TurbineInfo]:
        """Return the La Haute Borne asset table (4 Senvion MM82, 2,050 kW each)."""
        def make() -> list[TurbineInfo]:
            df = pd.read_csv(self.path(WIND_TURBINES))
            return [
                TurbineInfo(str(r.Wind_turbine_name), float(r.Latitude), float(r.Longitude), float(r.elevation_m),
                            float(r.Rated_power), float(r.Hub_height_m), float(r.Rotor_diameter_m),
                            str(r.Manufacturer), str(r.Model))
                for r in df.itertuples()
            ]
        return self._get("turbines", make)  # type: ignore[return-value]

    @property
    def wind(self) -> WindScada:
        """Return the cleaned La Haute Borne SCADA (see module doc)."""
        def make() -> WindScada:
            a = _cached(self.cache_dir, "lhb_scada", [self.path(WIND_SCADA)], lambda: _read_scada(self.path(WIND_SCADA)))
            g = Grid(*(int(x) for x in a["grid"]))
            raw = a["power_kw_raw"]
            return WindScada(
                tuple(str(x) for x in a["turbines"]), g, np.clip(raw, 0.0, None), raw, a["wind_ms"],
                a["direction_deg"], a["temp_c"], a["wind_ms_filled"], int(a["stats"][0]), int(a["stats"][1]),
            )
        return self._get("wind", make)  # type: ignore[return-value]

    @property
    def power_curve(self) -> PowerCurve:
        """Return the Senvion MM82 power curve fitted from the SCADA (binned median of P vs Ws)."""
        def make() -> PowerCurve:
            w = self.wind
            rated = self.turbines[0].rated_kw if self.turbines else 2050.0
            return fit_power_curve(w.wind_ms, w.power_kw, rated)
        return self._get("power_curve", make)  # type: ignore[return-value]

    @property
    def era5(self) -> Era5:
        """Return ERA5 at La Haute Borne (hourly instants; 100 m wind speed, 2 m temperature in degC)."""
        def make() -> Era5:
            df = pd.read_csv(self.path(WIND_ERA5), usecols=["time_utc", "ws_100m", "t_2m"])
            t = _epoch_s(pd.to_datetime(df["time_utc"], format="ISO8601", utc=True))
            g = Grid(int(t[0]), 3600, int((t[-1] - t[0]) // 3600 + 1))
            ws = _on_grid(t, df["ws_100m"].to_numpy(np.float32), g)
            tc = _on_grid(t, (df["t_2m"] - 273.15).to_numpy(np.float32), g)
            return Era5(g, ws, tc)
        return self._get("era5", make)  # type: ignore[return-value]

    def _pv(self, name: str, reader: Callable[[], dict[str, np.ndarray]], sources: list[Path], lat: float,
            lon: float, tilt: float, azimuth: float, ac_kw: float | None, dc_kw: float | None) -> PvSeries:
        a = _cached(self.cache_dir, name, sources, reader)
        g = Grid(*(int(x) for x in a["grid"]))
        measured = a["ac_kw"].astype(float)
        if ac_kw is None:  # infer: 99.5th percentile of daily maxima
            daily = np.nanmax(measured[: g.n // 96 * 96].reshape(-1, 96), axis=1)
            ac_kw = float(np.round(np.nanpercentile(daily, 99.5), 1))
            dc_kw = round(ac_kw * 1.1, 1)
        assert dc_kw is not None
        mid = g.times() + g.step_s // 2
        linke = pvmodel.linke_turbidity_monthly(lat, lon).reshape(1, 12)
        temp = np.nan_to_num(a["temp_c"].astype(float), nan=15.0).reshape(1, -1)
        # reference model without inverter clipping: DC nameplate, AC limit 1.5x (the measured
        # channel exceeds its ~STC AC rating on cold clear days)
        per_kw, _ = pvmodel.clearsky_pv(mid, [lat], [lon], [tilt], [azimuth], [dc_kw / (1.5 * dc_kw)],
                                        [PVDAQ50_ALT_M], linke, temp_air_c=temp)
        clear = (per_kw[0] * 1.5 * dc_kw).astype(np.float32)
        k = clearness_index(g.times(), measured, clear, ac_kw)
        return PvSeries(name, g, a["ac_kw"], clear, k, a["ghi_wm2"], a["temp_c"], ac_kw, dc_kw, lat, lon, tilt, azimuth)

    @property
    def pvdaq(self) -> PvSeries:
        """Return PVDAQ system 50 (channel ac_power_2), 2011-04-15..2013-12-31, with its clearness."""
        def make() -> PvSeries:
            src = [self.path(PVDAQ_POWER), self.path(PVDAQ_PSM3)]
            return self._pv("pvdaq50", lambda: _read_pvdaq(*src), src, PVDAQ50_LAT, PVDAQ50_LON, PVDAQ50_TILT,
                            PVDAQ50_AZIMUTH, PVDAQ50_AC_KW, PVDAQ50_DC_KW)
        return self._get("pvdaq", make)  # type: ignore[return-value]

    @property
    def serf_east(self) -> PvSeries:
        """Return SERF East, 2016-07-01..2016-10-13; nameplate inferred from its clear-day maxima."""
        def make() -> PvSeries:
            src = [self.path(SERF_POWER), self.path(SERF_PSM3)]
            return self._pv("serf_east", lambda: _read_serf(*src), src, SERF_LAT, SERF_LON, SERF_TILT, SERF_AZIMUTH,
                            None, None)
        return self._get("serf_east", make)  # type: ignore[return-value]

    @property
    def prices(self) -> DayAheadPrices:
        """Return the SMARD day-ahead prices (EUR/MWh) of 2015 and 2018 per bidding zone."""
        def make() -> DayAheadPrices:
            a = _cached(self.cache_dir, "smard", [self.path(SMARD_PRICES)], lambda: _read_prices(self.path(SMARD_PRICES)))
            zones = {k.split(":", 1)[1]: a[k] for k in a if k.startswith("zone:")}
            return DayAheadPrices(a["times_s"], zones, tuple(int(y) for y in a["years"]))
        return self._get("prices", make)  # type: ignore[return-value]


_default: DemoData | None = None
_default_lock = threading.Lock()


def default_data() -> DemoData:
    """Return the process-wide :class:`DemoData` on ``settings.demo_data_dir`` (cache in the instance folder)."""
    global _default
    with _default_lock:
        if _default is None:
            from core.settings import get_settings

            settings = get_settings()
            _default = DemoData(settings.demo_data_dir, settings.instance_dir / "demo_cache")
        return _default
