"""Chart download callbacks (every ``components.charts.chart``): clientside, the browser saves the
figure as drawn with ``Plotly.downloadImage``; nothing reaches the server."""
from __future__ import annotations

from dash import MATCH, Dash, Input, Output

from components.charts import download_id

DOWNLOAD = """
function(png, svg) {
    const ctx = window.dash_clientside.callback_context;
    if (!ctx.triggered.length || !ctx.triggered[0].value) return window.dash_clientside.no_update;
    const id = JSON.parse(ctx.triggered[0].prop_id.split('.')[0]);
    const host = document.getElementById(id.graph);
    const gd = host && (host.classList.contains('js-plotly-plot') ? host : host.querySelector('.js-plotly-plot'));
    if (!gd || !window.Plotly) return window.dash_clientside.no_update;
    const fmt = id.type === 'fl-chart-svg' ? 'svg' : 'png';
    const button = document.getElementById(ctx.triggered[0].prop_id.split('.')[0]);
    const name = (button && button.dataset.filename) || id.graph;
    window.Plotly.downloadImage(gd, {format: fmt, filename: name, scale: fmt === 'png' ? 2 : 1,
                                     width: gd.offsetWidth, height: gd.offsetHeight});
    return Date.now();
}
"""


def register(app: Dash) -> None:
    """Attach the PNG/SVG download callback of every chart to ``app``."""
    app.clientside_callback(
        DOWNLOAD,
        Output({"type": "fl-chart-sink", "graph": MATCH}, "data"),
        Input(download_id("png", MATCH), "n_clicks"), Input(download_id("svg", MATCH), "n_clicks"),
        prevent_initial_call=True,
    )
