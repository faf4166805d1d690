"""Figure builders of the live performance and markets pages (data in, figure out)."""
from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go

from components.theme import style_figure


def rolling_output_figure(history: list[tuple[dt.datetime, float]], expected: list[tuple[dt.datetime, float]],
                          title: str, theme: str | None = "light") -> go.Figure:
    """Return the rolling chart: output (MW) and expected (MW) lines, extended live in the browser.

    ``history`` seeds the output line and ``expected`` the expected line with 15-min means
    (interval start); live points follow. Trace 0 is output, trace 1 expected (the clientside
    extension relies on that order).
    """
    fig = go.Figure()
    fig.add_scatter(x=[t for t, _ in history], y=[v for _, v in history], name="Output (MW)", mode="lines",
                    line={"color": "#2e9e5b", "width": 2}, hovertemplate="%{y:,.2f} MW")
    fig.add_scatter(x=[t for t, _ in expected], y=[v for _, v in expected], name="Expected from weather (MW)",
                    mode="lines", line={"color": "#6c8ebf", "width": 2, "dash": "dot"}, connectgaps=False,
                    hovertemplate="%{y:,.2f} MW")
    fig.update_layout(title=title, yaxis_title="MW", uirevision="live", hovermode="x unified",
                      xaxis_hoverformat="%Y-%m-%d %H:%M:%S UTC")
    return style_figure(fig, theme, height=300)


def price_figure(node: dict | None, spike_sigma: float, theme: str | None = "light") -> go.Figure:
    """Return DA (step, hourly) vs RT prices of one node today, spikes marked (currency/MWh).

    ``node`` is a row of :func:`live.prices.node_board` (``da``/``rt`` as [[start_ms, price]]).
    A spike is an RT price above the hour's DA by more than max(3 sigma, 25).
    """
    fig = go.Figure()
    if node:
        to_t = lambda ms: dt.datetime.fromtimestamp(ms / 1000, dt.UTC)  # noqa: E731
        da = {ms: p for ms, p in node["da"]}
        price = f"%{{y:,.2f}} {node['currency']}/MWh"
        fig.add_scatter(x=[to_t(ms) for ms, _ in node["da"]], y=[p for _, p in node["da"]], name="Day-ahead",
                        mode="lines", line={"shape": "hv", "color": "#2f7ed8", "width": 2}, hovertemplate=price)
        fig.add_scatter(x=[to_t(ms) for ms, _ in node["rt"]], y=[p for _, p in node["rt"]],
                        name="Real-time (simulated)", mode="lines", line={"color": "#e67e22", "width": 1.5},
                        hovertemplate=price)
        spikes = []
        for ms, price in node["rt"]:
            hour = ms - ms % 3_600_000
            if hour in da and price >= da[hour] + max(3 * spike_sigma, 25.0):
                spikes.append((to_t(ms), price))
        if spikes:
            fig.add_scatter(x=[t for t, _ in spikes], y=[p for _, p in spikes], name="Spike", mode="markers",
                            marker={"color": "#d9534f", "size": 10, "symbol": "triangle-up"}, hovertemplate=price)
        fig.update_layout(title=f"{node['market']} {node['node']}: day-ahead vs real-time",
                          yaxis_title=f"{node['currency']}/MWh")
    else:
        fig.update_layout(title="No prices yet for this node")
    fig.update_layout(hovermode="x unified", xaxis_hoverformat="%Y-%m-%d %H:%M UTC")
    return style_figure(fig, theme, height=320)
