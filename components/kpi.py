"""KPI tiles and the KPI text slots that pushes fill.

A slot is an element with ``data-kpi-scope`` ("fleet", "market:<market>", "site:<id>") and
``data-kpi`` (a key of :func:`domain.kpis.format_kpis`). The server renders it with the text of
the same computation, and ``assets/live_push.js`` replaces it with ``<kpi payload>.text[key]`` on
every push of that scope, so the browser never formats a KPI itself.
"""
from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html


def scope_key(scope: str, scope_id: str | None = None) -> str:
    """Return the slot scope of a KPI payload: ``"fleet"``, ``"market:ERCOT"``, ``"site:t-sol"``."""
    return scope if scope_id is None else f"{scope}:{scope_id}"


def slot_attrs(scope: str, key: str) -> dict[str, str]:
    """Return the ``data-*`` attributes that make an element the slot of KPI ``key`` in ``scope``."""
    return {"data-kpi-scope": scope, "data-kpi": key}


def kpi_text(scope: str, key: str, texts: dict[str, str], **kwargs: Any) -> html.Span:
    """Return a span holding ``texts[key]`` now and the pushed text of ``key`` in ``scope`` later."""
    return html.Span(texts.get(key, "—"), **slot_attrs(scope, key), **kwargs)


def kpi_tile(tile_id: str, label: str, value: Any, detail: Any = "", icon: str = "bi-speedometer2",
             slot: tuple[str, str] | None = None) -> dbc.Card:
    """Return a KPI card whose value and detail have ids ``<tile_id>-value`` / ``<tile_id>-detail``.

    ``slot`` = (scope, key) makes the value element itself the push slot of that KPI.
    """
    value_attrs = slot_attrs(*slot) if slot else {}
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div([html.I(className=f"bi {icon} me-2"), label], className="kpi-label text-body-secondary small"),
                html.Div(value, id=f"{tile_id}-value", className="kpi-value fs-3 fw-semibold", **value_attrs),
                html.Div(detail, id=f"{tile_id}-detail", className="kpi-detail small text-body-secondary"),
            ]
        ),
        className="kpi-tile h-100 shadow-sm",
        id=tile_id,
    )
