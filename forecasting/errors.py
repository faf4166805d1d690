"""Errors raised by the forecasting package."""
from __future__ import annotations


class ForecastInputError(ValueError):
    """The input cannot be forecast as given; the message names the column, count and an example.

    Raised for missing or misnamed columns, non-numeric values, unparseable or duplicated
    timestamps, too many gaps, a constant target and too little history.
    """
