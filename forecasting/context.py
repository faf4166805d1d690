"""The shared view of one forecasting problem that every model reads from.

A :class:`ForecastContext` holds one regular grid (history and, when forecasting live, the
future targets), the target normalised by capacity (so 1.0 = nameplate; series whose capacity
grows over time stay comparable), the weather columns, pvlib clear-sky columns and the lag
tables. Models fit on positions before ``train_end`` and predict (origin, horizon) pairs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError
from forecasting.features import LagTables, SiteContext, calendar_features, clearsky_features, steps_per_day


@dataclass
class ForecastContext:
    """One site's series on its grid, normalised by capacity; see the module docstring."""

    index: pd.DatetimeIndex
    y: np.ndarray
    capacity: np.ndarray
    exog: pd.DataFrame
    freq: pd.Timedelta
    site: SiteContext
    max_horizon: int
    spd: int = 0
    clearsky: pd.DataFrame | None = None
    calendar: dict[str, np.ndarray] = field(default_factory=dict)
    lags: LagTables | None = None

    @classmethod
    def build(
        cls,
        y: pd.Series,
        *,
        freq: pd.Timedelta,
        max_horizon: int,
        capacity: float | pd.Series | None = None,
        exog: pd.DataFrame | None = None,
        site: SiteContext | None = None,
        future_steps: int = 0,
    ) -> ForecastContext:
        """Return a context for ``y`` (regular UTC index), extended by ``future_steps`` empty targets.

        ``capacity`` is a number or a series on (a superset of) the index, in the unit of ``y``;
        None uses the maximum of ``y`` (nMAE is then relative to peak output). ``exog`` must
        cover the extended grid (weather forecasts for the future part).
        """
        site = site or SiteContext()
        if max_horizon < 1:
            raise ForecastInputError(f"horizon must be at least 1 step, got {max_horizon}")
        index = pd.date_range(y.index[0], periods=len(y) + future_steps, freq=freq)
        if not y.index.equals(index[: len(y)]):
            raise ForecastInputError("y must be on a regular grid; prepare it with forecasting.series.prepare_frame")
        values = np.concatenate([y.to_numpy(dtype=float), np.full(future_steps, np.nan)])
        cap = _capacity_array(capacity, index, values)
        frame = pd.DataFrame(index=index)
        if exog is not None and len(exog.columns):
            frame = exog.reindex(index)
            if frame.isna().all(axis=0).any():
                empty = list(frame.columns[frame.isna().all(axis=0)])
                raise ForecastInputError(f"weather column(s) {empty} have no values on the forecast grid")
            frame = frame.interpolate(limit_direction="both")
        spd = steps_per_day(freq)
        ctx = cls(
            index=index, y=values / cap, capacity=cap, exog=frame, freq=freq, site=site,
            max_horizon=int(max_horizon), spd=spd,
        )
        if site.latitude is not None:
            ctx.clearsky = clearsky_features(index, freq, site)
        ctx.calendar = calendar_features(index, freq)
        ctx.lags = LagTables.build(ctx.y, spd)
        return ctx

    @property
    def n(self) -> int:
        """Return the number of grid positions."""
        return len(self.index)

    @property
    def weather_columns(self) -> list[str]:
        """Return the weather column names."""
        return list(self.exog.columns)

    def pv_night(self, positions: np.ndarray) -> np.ndarray:
        """Return a mask of positions where a PV site cannot produce (clear-sky GHI is 0)."""
        if self.site.kind != "pv" or self.clearsky is None:
            return np.zeros(len(positions), dtype=bool)
        return self.clearsky["cs_ghi"].to_numpy()[positions] <= 0.0

    def denormalise(self, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Return normalised ``values`` (rows aligned with target ``positions``) in the unit of y."""
        cap = self.capacity[positions]
        return values * (cap[:, None] if values.ndim == 2 else cap)


def _capacity_array(capacity: float | pd.Series | None, index: pd.DatetimeIndex, values: np.ndarray) -> np.ndarray:
    if capacity is None:
        peak = np.nanmax(values) if np.isfinite(values).any() else np.nan
        if not np.isfinite(peak) or peak <= 0:
            raise ForecastInputError("capacity not given and the target has no positive value to infer it from")
        return np.full(len(index), float(peak))
    if isinstance(capacity, pd.Series):
        cap = capacity.sort_index().reindex(capacity.index.union(index)).interpolate("time").ffill().bfill().reindex(index)
        arr = cap.to_numpy(dtype=float)
    else:
        arr = np.full(len(index), float(capacity))
    if not np.isfinite(arr).all() or (arr <= 0).any():
        raise ForecastInputError("capacity must be a positive number (or a positive series covering the data)")
    return arr
