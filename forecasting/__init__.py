"""Generation forecasting: features, models, rolling-origin backtests, registry and inference.

Time convention (the whole package): a series lives on a regular UTC grid labelled by interval
start. A forecast made at *origin* position ``o`` knows every value up to and including the
interval starting at ``o`` and predicts the interval starting at ``o + h`` (``h`` >= 1 steps).
Issued at the end of interval ``o``, its lead time to the end of the target interval is
``h * freq``; ``generation_forecasts.horizon_min`` stores exactly that.

Modules: :mod:`.series` (input validation), :mod:`.features`, :mod:`.models`, :mod:`.metrics`,
:mod:`.backtest`, :mod:`.calibration` (online p10-p90 band calibration), :mod:`.cli`
(``flask --app app backtest``), :mod:`.registry`, :mod:`.remote` (TensorFlow Serving, Vertex AI),
:mod:`.anomaly`.
"""
from forecasting.errors import ForecastInputError

__all__ = ["ForecastInputError"]
