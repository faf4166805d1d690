"""``flask --app app backtest``: rolling-origin backtest of every model on any CSV, printed as JSON.

Example::

    flask --app app backtest --csv output.csv --time-col time --target power_kw \\
        --features ghi,temp_air --horizon 48 --freq 1h --capacity 3.0

The JSON holds the input report, the folds, and per model its metrics per horizon (MAE, RMSE,
nMAE, bias, pinball loss, p10-p90 coverage, skill vs persistence) and per lead-time bucket, and
``band_calibration``: the online band multipliers (adaptive conformal inference, see
:mod:`forecasting.calibration`) and the coverage the model's fixed band would have had.
Bad input exits with status 2 and a one-line message naming the problem.
"""
from __future__ import annotations

import json
import sys

import click
import pandas as pd

from forecasting.backtest import run_backtest
from forecasting.calibration import DEFAULT_STEP
from forecasting.errors import ForecastInputError
from forecasting.features import SiteContext
from forecasting.models import MODEL_NAMES
from forecasting.series import parse_freq, prepare_frame


def _horizon_steps(value: str, freq: pd.Timedelta) -> int:
    if value.isdigit():
        return int(value)
    td = parse_freq(value)
    steps = td / freq
    if steps < 1 or steps != int(steps):
        raise ForecastInputError(f"horizon {value!r} is not a whole number of {freq} steps")
    return int(steps)


@click.command("backtest")
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False), help="CSV file (plain or .gz).")
@click.option("--time-col", required=True, help="Timestamp column (interval start; naive = UTC unless --tz).")
@click.option("--target", required=True, help="Column to forecast (e.g. power in kW).")
@click.option("--features", default="", help="Comma-separated weather columns known in advance (forecasts).")
@click.option("--horizon", default="48", show_default=True, help="Longest horizon: steps (48) or a duration (48h).")
@click.option("--freq", default=None, help="Grid spacing, e.g. 15min or 1h (default: most common spacing).")
@click.option("--capacity", type=float, default=None, help="Capacity in the target's unit (default: peak of the target).")
@click.option("--models", default=",".join(MODEL_NAMES), show_default=True, help="Comma-separated models to run.")
@click.option("--kind", type=click.Choice(["generic", "pv", "wind"]), default="generic", show_default=True)
@click.option("--lat", type=float, default=None, help="Latitude (deg) for pvlib clear-sky features.")
@click.option("--lon", type=float, default=None, help="Longitude (deg) for pvlib clear-sky features.")
@click.option("--wind-speed-col", default=None, help="Weather column feeding the wind power curve (with --kind wind).")
@click.option("--irradiance-col", default=None, help="GHI column [W/m2] for PV physical features (with --kind pv and --lat/--lon).")
@click.option("--tz", default=None, help="Time zone of naive timestamps, e.g. Europe/Paris.")
@click.option("--duplicates", type=click.Choice(["error", "first", "mean"]), default="error", show_default=True)
@click.option("--test-start", default=None, help="First test timestamp (default: the last 30 % of the data).")
@click.option("--folds", type=int, default=None, help="Number of rolling-origin folds (default 3, or 1 with --test-start).")
@click.option("--origin-every", default=None, help="Spacing of forecast origins: steps or a duration (default 6h).")
@click.option("--no-weather", is_flag=True, help="Ignore the weather columns (calendar and lags only).")
@click.option("--band-step", type=click.FloatRange(min=0), default=DEFAULT_STEP, show_default=True,
              help="Learning rate of the online p10-p90 band calibration (0 = the models' fixed bands).")
def backtest_command(csv_path: str, time_col: str, target: str, features: str, horizon: str, freq: str | None,
                     capacity: float | None, models: str, kind: str, lat: float | None, lon: float | None,
                     wind_speed_col: str | None, irradiance_col: str | None, tz: str | None, duplicates: str, test_start: str | None,
                     folds: int | None, origin_every: str | None, no_weather: bool, band_step: float) -> None:
    """Backtest forecast models on a CSV and print each model's metrics per horizon as JSON."""
    try:
        result = backtest_csv(
            csv_path, time_col=time_col, target=target,
            features=[c.strip() for c in features.split(",") if c.strip()],
            horizon=horizon, freq=freq, capacity=capacity,
            models=[m.strip() for m in models.split(",") if m.strip()], kind=kind, lat=lat, lon=lon,
            wind_speed_col=wind_speed_col, irradiance_col=irradiance_col, tz=tz, duplicates=duplicates,
            test_start=test_start, folds=folds, origin_every=origin_every, use_weather=not no_weather,
            band_step=band_step,
        )
    except ForecastInputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(result, indent=2, allow_nan=False))


def backtest_csv(csv_path: str, *, time_col: str, target: str, features: list[str], horizon: str = "48",
                 freq: str | None = None, capacity: float | None = None, models: list[str] | None = None,
                 kind: str = "generic", lat: float | None = None, lon: float | None = None,
                 wind_speed_col: str | None = None, irradiance_col: str | None = None, tz: str | None = None,
                 duplicates: str = "error",
                 test_start: str | None = None, folds: int | None = None, origin_every: str | None = None,
                 use_weather: bool = True, band_step: float = DEFAULT_STEP) -> dict:
    """Return the backtest of ``csv_path`` as a JSON-ready dict (see the module docstring)."""
    if capacity is not None and capacity <= 0:
        raise ForecastInputError(f"--capacity must be positive, got {capacity}")
    try:
        frame = pd.read_csv(csv_path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ForecastInputError(f"{csv_path}: not a readable CSV ({exc})") from None
    for col in (wind_speed_col, irradiance_col):
        if col and col not in features:
            features = [*features, col]
    prepared = prepare_frame(frame, time_col=time_col, target=target, features=features, freq=freq,
                             tz=tz, duplicates=duplicates)
    steps = _horizon_steps(str(horizon), prepared.freq)
    every = _horizon_steps(str(origin_every), prepared.freq) if origin_every else None
    site = SiteContext(kind=kind, latitude=lat, longitude=lon, wind_speed_col=wind_speed_col,
                       irradiance_col=irradiance_col)
    chosen = models or list(MODEL_NAMES)
    unknown = [m for m in chosen if m not in MODEL_NAMES]
    if unknown:
        raise ForecastInputError(f"unknown model(s) {unknown}; choose from {list(MODEL_NAMES)}")
    result = run_backtest(
        prepared.y, freq=prepared.freq, horizon=steps, exog=prepared.exog, capacity=capacity, site=site,
        models=chosen, use_weather=use_weather, test_start=test_start, n_folds=folds, origin_every=every,
        band_step=band_step,
    )
    out = {
        "input": {**prepared.report, "target": target, "features": features if use_weather else [],
                  "capacity": capacity if capacity is not None else float(prepared.y.max()),
                  "capacity_source": "given" if capacity is not None else "peak of target",
                  "horizon_steps": steps},
        "metric_notes": {
            "h": "horizon in steps; lead_h = hours from issue to the end of the target interval",
            "bias": "mean(forecast - actual)", "nmae": "MAE / capacity",
            "skill_rmse": "1 - RMSE / RMSE(persistence)", "pinball": "mean pinball loss of p10, p50, p90",
            "coverage_p10_p90": "share of actuals inside the published p10-p90 band (recalibrated online, no look-ahead)",
        },
    }
    out.update(result.to_json_dict())
    return out


@click.command("retrain")
@click.option("--models", default="xgboost", show_default=True, help="Comma-separated models to train per site.")
@click.option("--site", "site_ids", multiple=True, help="Only these site ids (repeatable; default all).")
def retrain_command(models: str, site_ids: tuple[str, ...]) -> None:
    """Retrain the forecast models of every generating site, issue 48 h forecasts and print a JSON summary."""
    from core.runtime import services
    from forecasting.service import retrain_all

    names = tuple(m.strip() for m in models.split(",") if m.strip())
    unknown = [m for m in names if m not in MODEL_NAMES]
    if unknown:
        click.echo(f"error: unknown model(s) {unknown}; choose from {list(MODEL_NAMES)}", err=True)
        sys.exit(2)
    out = retrain_all(services().db, names, site_ids=list(site_ids) or None)
    click.echo(json.dumps(out, indent=2, default=str))
