"""A chart with its downloads: ``dcc.Graph`` whose mode bar (on hover) saves a PNG, and two small
buttons saving what the chart shows as PNG or SVG (``Plotly.downloadImage`` in the browser, so the
file is the figure as drawn: the theme, the range and the series shown)."""
from __future__ import annotations

from typing import Any

from dash import dcc, html

IMAGE_FORMATS = ("png", "svg")


def download_id(fmt: str, graph_id: str) -> dict[str, str]:
    """Return the pattern-matching id of a chart's ``fmt`` download button."""
    return {"type": f"fl-chart-{fmt}", "graph": graph_id}


def graph_config(filename: str) -> dict[str, Any]:
    """Return the Plotly config of an app chart: mode bar on hover with PNG download named ``filename``,
    no Plotly logo, no selection tools."""
    return {
        "displaylogo": False, "displayModeBar": "hover",
        "modeBarButtonsToRemove": ["select2d", "lasso2d", "toggleSpikelines", "hoverCompareCartesian",
                                   "hoverClosestCartesian"],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }


def chart(graph_id: str, figure: Any = None, filename: str | None = None, loading: bool = False) -> html.Div:
    """Return the chart ``graph_id`` (``figure`` now, or filled by a callback) with PNG and SVG buttons
    saving ``filename``.png/.svg (default: the graph id); ``loading`` wraps the graph in ``dcc.Loading``."""
    name = filename or graph_id
    kwargs: dict[str, Any] = {} if figure is None else {"figure": figure}
    graph: Any = dcc.Graph(id=graph_id, config=graph_config(name), **kwargs)
    if loading:
        graph = dcc.Loading(graph)
    buttons = html.Div([
        html.Button(fmt.upper(), id=download_id(fmt, graph_id), n_clicks=0, type="button",
                    className="btn btn-link btn-sm p-0 ms-2 fl-chart-dl", title=f"Download this chart as {fmt.upper()}",
                    **{"data-filename": name})
        for fmt in IMAGE_FORMATS
    ], className="d-flex justify-content-end small fl-chart-downloads mt-1")
    return html.Div([graph, buttons, dcc.Store(id={"type": "fl-chart-sink", "graph": graph_id})], className="fl-chart")
