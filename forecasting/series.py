"""Turn an outside table into a validated, regular UTC series (target plus weather features).

Every problem found raises :class:`ForecastInputError` with a message naming the column, the
count and a first example. The only silent repairs are documented here:

* naive timestamps are taken as UTC unless ``tz`` names their zone (then DST-ambiguous stamps are
  resolved by order, nonexistent ones shifted forward);
* short gaps stay as missing values (NaN): models skip them for training and metrics skip them
  for scoring; more than ``max_missing_frac`` missing intervals is an error;
* duplicated timestamps are an error unless ``duplicates`` is ``"first"`` or ``"mean"``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError


@dataclass
class PreparedSeries:
    """A validated forecasting input on a regular grid.

    ``y`` is float, indexed by tz-aware UTC interval starts at ``freq`` spacing, NaN where missing;
    ``exog`` holds the weather/feature columns on the same index (may be empty).
    """

    y: pd.Series
    exog: pd.DataFrame
    freq: pd.Timedelta
    report: dict = field(default_factory=dict)


def parse_freq(value: str | pd.Timedelta | None) -> pd.Timedelta | None:
    """Return ``value`` (e.g. "15min", "1h") as a Timedelta, None for None; raise on nonsense."""
    if value is None or isinstance(value, pd.Timedelta):
        return value
    try:
        td = pd.Timedelta(pd.tseries.frequencies.to_offset(value))
    except (ValueError, TypeError):
        raise ForecastInputError(f"freq {value!r} is not a frequency such as '15min' or '1h'") from None
    if td <= pd.Timedelta(0):
        raise ForecastInputError(f"freq {value!r} must be positive")
    return td


def _to_utc(raw: pd.Series, column: str, tz: str | None) -> pd.DatetimeIndex:
    try:
        parsed = pd.to_datetime(raw, utc=False, format="mixed")
    except (ValueError, TypeError) as exc:
        bad = None
        for value in raw.head(10_000):
            try:
                pd.Timestamp(value)
            except (ValueError, TypeError):
                bad = value
                break
        raise ForecastInputError(
            f"column {column!r}: timestamps could not be parsed (first bad value {bad!r}; {exc})"
        ) from None
    if parsed.isna().any():
        first = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise ForecastInputError(f"column {column!r}: {int(parsed.isna().sum())} empty timestamps (first at row {first})")
    if getattr(parsed.dtype, "tz", None) is None and parsed.dtype == object:
        # mixed offsets: normalise through UTC
        parsed = pd.to_datetime(raw, utc=True, format="mixed")
    idx = pd.DatetimeIndex(parsed)
    if idx.tz is None:
        if tz:
            idx = idx.tz_localize(tz, ambiguous="infer" if idx.is_monotonic_increasing else "NaT",
                                  nonexistent="shift_forward")
            if idx.isna().any():
                raise ForecastInputError(f"column {column!r}: ambiguous local times around a DST change in {tz}")
        else:
            idx = idx.tz_localize("UTC")
    return idx.tz_convert("UTC")


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        raise ForecastInputError(
            f"column {column!r}: {len(rows)} non-numeric values (first {raw.iloc[rows[0]]!r} at row {rows[0]})"
        )
    values = values.astype(float)
    if np.isinf(values.to_numpy()).any():
        raise ForecastInputError(f"column {column!r}: infinite values")
    return values


def prepare_frame(
    frame: pd.DataFrame,
    *,
    time_col: str,
    target: str,
    features: list[str] | tuple[str, ...] = (),
    freq: str | pd.Timedelta | None = None,
    tz: str | None = None,
    duplicates: str = "error",
    max_missing_frac: float = 0.2,
) -> PreparedSeries:
    """Return a :class:`PreparedSeries` from a table with a time column, a target and features.

    ``freq`` defaults to the most common spacing of the timestamps; stamps off that grid are an
    error. ``duplicates`` is "error", "first" or "mean".
    """
    missing = [c for c in [time_col, target, *features] if c not in frame.columns]
    if missing:
        raise ForecastInputError(
            f"column(s) {missing} not found; available columns: {list(frame.columns)}"
        )
    if duplicates not in ("error", "first", "mean"):
        raise ForecastInputError(f"duplicates must be 'error', 'first' or 'mean', not {duplicates!r}")
    if len(frame) < 3:
        raise ForecastInputError(f"only {len(frame)} rows: too little history to forecast")
    idx = _to_utc(frame[time_col], time_col, tz)
    data = pd.DataFrame({target: _numeric(frame, target).to_numpy()}, index=idx)
    for col in features:
        if col == target:
            raise ForecastInputError(f"feature {col!r} is the target itself: it would not be known in advance")
        data[col] = _numeric(frame, col).to_numpy()
    data = data.sort_index()
    dup = data.index.duplicated(keep=False)
    n_dup = int(data.index.duplicated().sum())
    if n_dup:
        if duplicates == "error":
            first = data.index[dup][0]
            raise ForecastInputError(
                f"column {time_col!r}: {n_dup} duplicated timestamps (first {first.isoformat()}); "
                "remove them (e.g. DST repeats) or pass duplicates='first'/'mean'"
            )
        data = data.groupby(level=0).first() if duplicates == "first" else data.groupby(level=0).mean()
    step = parse_freq(freq)
    diffs = pd.Series(data.index[1:] - data.index[:-1])
    if step is None:
        if diffs.empty:
            raise ForecastInputError("cannot infer the frequency from fewer than two timestamps")
        step = diffs.mode().iloc[0]
    off_grid = ((data.index - data.index[0]) % step) != pd.Timedelta(0)
    if off_grid.any():
        raise ForecastInputError(
            f"column {time_col!r}: {int(off_grid.sum())} timestamps are off the {step} grid "
            f"(first {data.index[off_grid][0].isoformat()}); resample first or pass the right freq"
        )
    grid = pd.date_range(data.index[0], data.index[-1], freq=step)
    data = data.reindex(grid)
    n_missing = int(data[target].isna().sum())
    frac = n_missing / len(data)
    longest = _longest_gap(data[target].isna().to_numpy()) * step
    if frac > max_missing_frac:
        raise ForecastInputError(
            f"column {target!r}: {n_missing} of {len(data)} intervals missing ({frac:.0%}, longest gap {longest}); "
            f"more than the allowed {max_missing_frac:.0%}"
        )
    y = data[target].rename("y")
    exog = data[list(features)].copy()
    for col in features:
        if exog[col].isna().all():
            raise ForecastInputError(f"feature column {col!r} has no values")
        exog[col] = exog[col].interpolate(limit_direction="both")
    report = {
        "rows": int(len(frame)),
        "start": grid[0].isoformat(),
        "end": grid[-1].isoformat(),
        "freq": _freq_label(step),
        "intervals": int(len(grid)),
        "missing_intervals": n_missing,
        "longest_gap": str(longest),
        "duplicates_removed": n_dup,
    }
    return PreparedSeries(y=y, exog=exog, freq=step, report=report)


def check_trainable(y: pd.Series, *, min_intervals: int, what: str = "training window") -> None:
    """Raise ForecastInputError when ``y`` has fewer than ``min_intervals`` values or is constant."""
    values = y.dropna()
    if len(values) < min_intervals:
        raise ForecastInputError(
            f"too little history: {len(values)} valid intervals in the {what}, at least {min_intervals} needed"
        )
    if float(values.max() - values.min()) == 0.0:
        raise ForecastInputError(
            f"target is constant ({values.iloc[0]!r}) over the {what}: there is nothing to learn"
        )


def _longest_gap(mask: np.ndarray) -> int:
    best = run = 0
    for flag in mask:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _freq_label(step: pd.Timedelta) -> str:
    minutes = int(step / pd.Timedelta(minutes=1))
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"
