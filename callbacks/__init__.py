"""Dash callbacks, one module per page, each a thin adapter over pure functions.

Convention: a module here defines ``register(app)`` that attaches its callbacks with
``app.callback`` / ``app.clientside_callback``; :func:`register_all` calls every one. The modules
stay importable without an app, so their pure parts can be unit-tested.
"""
from __future__ import annotations

import importlib
import pkgutil

from dash import Dash


def register_all(app: Dash) -> None:
    """Call ``register(app)`` of every module in this package."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)
