"""Hooks called after connector data has been stored (the live path subscribes here).

Append a callable to a list; it gets the stored records (never half-parsed). A failing hook is
logged and does not stop the others or undo the store.

* ``on_prices_stored(records: list[PriceRecord])``
* ``on_weather_stored(site_id: str, records: list[WeatherObs])``
* ``on_alerts_stored(site_id: str | None, records: list[AlertRecord])``
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

on_prices_stored: list[Callable[..., Any]] = []
on_weather_stored: list[Callable[..., Any]] = []
on_alerts_stored: list[Callable[..., Any]] = []


def notify(hooks: list[Callable[..., Any]], *args: Any) -> None:
    """Call every hook with ``args``; log (never raise) a hook's failure."""
    for hook in list(hooks):
        try:
            hook(*args)
        except Exception:
            log.exception("connector hook %r failed", hook)
