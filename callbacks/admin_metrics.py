"""Admin metrics page callbacks: the Prometheus exposition of the deployment, as tables."""
from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output

from observability.metrics import samples

IDS = {"tick": "om-tick", "summary": "om-summary", "table": "om-table", "filter": "om-filter"}

# the figures the summary tiles show: (title, metric name, text when the metric has no sample yet)
SUMMARY = [
    ("HTTP requests", "fleetlight_http_requests_total", "0"),
    ("Points stored", "fleetlight_ingest_points_total", "0"),
    ("Socket clients", "fleetlight_socket_clients", "0"),
    ("Dead letters waiting", "fleetlight_dead_letters_waiting", "0"),
    ("Bus queue depth", "fleetlight_bus_queue_depth", "no queues (in-process bus)"),
    ("Provider calls", "fleetlight_provider_calls_total", "none yet"),
]
_SUMMARY_FILTER = {"fleetlight_ingest_points_total": {"outcome": "stored"}}


def summary_values(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Return (title, text) per summary figure: the sum over its labelled samples (its empty text without any)."""
    out = []
    for title, name, empty in SUMMARY:
        wanted = _SUMMARY_FILTER.get(name, {})
        values = [r["value"] for r in rows if r["name"] == name
                  and all(r["labels"].get(k) == v for k, v in wanted.items())]
        out.append((title, f"{sum(values):,.0f}" if values else empty))
    return out


def table_rows(rows: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    """Return table rows (histogram buckets left out; _sum and _count kept) whose name or labels contain
    ``text``; Fleetlight's own metrics first, then the process and Python ones."""
    needle = (text or "").strip().lower()
    out = []
    for r in rows:
        if r["name"].endswith("_bucket") or r["name"].endswith("_created"):
            continue
        labels = ", ".join(f"{k}={v}" for k, v in sorted(r["labels"].items()))
        if needle and needle not in r["name"].lower() and needle not in labels.lower():
            continue
        out.append({"id": f"{r['name']}{{{labels}}}", "name": r["name"], "labels": labels, "value": r["value"]})
    out.sort(key=lambda row: not row["name"].startswith("fleetlight_"))  # stable: exposition order within each
    return out


def register(app: Dash) -> None:
    """Attach the metrics page callbacks."""
    import dash_bootstrap_components as dbc

    from components.kpi import kpi_tile

    @app.callback(Output(IDS["summary"], "children"), Output(IDS["table"], "rowData"),
                  Input(IDS["tick"], "n_intervals"), Input(IDS["filter"], "value"))
    def refresh(_n: int | None, text: str | None):
        rows = samples()
        tiles = [dbc.Col(kpi_tile(f"om-{i}", title, value, icon="bi-activity"), md=2)
                 for i, (title, value) in enumerate(summary_values(rows))]
        return dbc.Row(tiles, className="g-3"), table_rows(rows, text)
