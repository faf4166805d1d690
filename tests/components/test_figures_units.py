"""Charts show units and formatted numbers in their tooltips, readable variable names, kW for small
plants, and carry PNG and SVG downloads."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl

from components.charts import chart, graph_config
from components.figures import output_by_kind_figure, site_output_figure
from components.forecast_figures import correlation_figure
from components.live_figures import price_figure, rolling_output_figure
from components.units import power_unit, variable_label


def test_bar_tooltips_name_the_unit_instead_of_a_raw_tuple():
    sites = pl.DataFrame({"kind": ["solar", "wind"], "capacity_mw": [465.583, 120.0], "output_mw": [12.345, None]})
    fig = output_by_kind_figure(sites)
    templates = [t.hovertemplate for t in fig.data]
    assert all(t and "MW" in t and ":,.1f" in t for t in templates), templates


def test_small_plant_is_charted_in_kw():
    assert power_unit(0.5) == ("kW", 1000.0) and power_unit(3.0) == ("MW", 1.0) and power_unit(None) == ("MW", 1.0)
    ts = [dt.datetime(2026, 12, 4, h, tzinfo=dt.UTC) for h in range(3)]
    fig = site_output_figure(pl.DataFrame({"ts": ts, "output_mw": [0.0004, 0.00025, None]}), 0.5)
    assert fig.layout.yaxis.title.text == "kW" and "kW" in fig.layout.title.text
    assert list(fig.data[0].y) == [0.4, 0.25, None]
    assert "kW" in fig.data[0].hovertemplate
    big = site_output_figure(pl.DataFrame({"ts": ts, "output_mw": [2.0, 1.5, 1.0]}), 3.0)
    assert big.layout.yaxis.title.text == "MW" and list(big.data[0].y) == [2.0, 1.5, 1.0]


def test_live_and_price_tooltips_carry_units():
    t = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    live = rolling_output_figure([(t, 1.0)], [(t, 1.1)], "Fleet")
    assert [d.hovertemplate for d in live.data] == ["%{y:,.2f} MW", "%{y:,.2f} MW"]
    ms = int(t.timestamp() * 1000)
    prices = price_figure({"market": "ERCOT", "node": "HB_SOUTH", "currency": "USD", "da": [[ms, 20.0]],
                           "rt": [[ms, 21.0]]}, 5.0)
    assert all("USD/MWh" in d.hovertemplate for d in prices.data)


def test_correlation_shows_readable_variables():
    assert variable_label("ghi_wm2") == "GHI (W/m²)"
    assert variable_label("irradiance_wm2 (measured)") == "irradiance (W/m²) (measured)"
    assert variable_label("something_else") == "something_else"
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"output_mw": rng.random(30), "ghi_wm2": rng.random(30), "temperature_c": rng.random(30)})
    fig = correlation_figure(frame)
    assert list(fig.data[0].x) == ["output (MW)", "GHI (W/m²)", "air temperature (°C)"]


def test_chart_has_png_and_svg_downloads():
    config = graph_config("fleet-output")
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "fleet-output", "scale": 2}
    assert config["displaylogo"] is False
    ids = [c.id for c in chart("g1", {"data": []}, "fleet-output").children[1].children]
    assert ids == [{"type": "fl-chart-png", "graph": "g1"}, {"type": "fl-chart-svg", "graph": "g1"}]
