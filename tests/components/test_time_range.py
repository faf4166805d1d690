"""The time-range control's rules (components.time_range) and the site page's custom-range link."""
from __future__ import annotations

import datetime as dt

from dash import no_update

from callbacks.site import custom_range_href
from components.time_range import parse_range, resolution_for

NOW = dt.datetime(2026, 12, 4, 1, 30, tzinfo=dt.UTC)


def test_resolution_follows_the_span():
    assert resolution_for(dt.timedelta(hours=24)) == "15min"
    assert resolution_for(dt.timedelta(days=2)) == "15min"
    assert resolution_for(dt.timedelta(days=7)) == "1h"
    assert resolution_for(dt.timedelta(days=31)) == "1h"
    assert resolution_for(dt.timedelta(days=90)) == "1d"


def test_presets_custom_ranges_and_bad_links():
    week = parse_range({"range": "7d"}, NOW)
    assert (week.start, week.end, week.preset, week.resolution) == (NOW - dt.timedelta(days=7), NOW, "7d", "1h")
    assert week.query() == "?range=7d" and week.label() == "last 7 d"
    custom = parse_range({"from": "2026-10-01", "to": "2026-11-30"}, NOW)
    assert custom.preset is None and custom.start == dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert custom.end == dt.datetime(2026, 12, 1, tzinfo=dt.UTC) and custom.resolution == "1d"
    assert custom.query() == "?from=2026-10-01&to=2026-11-30"
    assert parse_range({"from": custom.query()[6:16], "to": "2026-11-30"}, NOW) == custom  # the link round-trips
    assert custom.label() == "2026-10-01 → 2026-11-30 (UTC)"
    # reversed, unparsable, too long or unknown: the default preset, never an error
    for bad in ({"from": "2026-11-30", "to": "2026-10-01"}, {"from": "x", "to": "y"}, {"range": "5y"},
                {"from": "1990-01-01", "to": "2026-01-01"}, {}):
        assert parse_range(bad, NOW).preset == "24h", bad


def test_custom_range_link_of_the_site_page():
    assert custom_range_href("/sites/s1", "2026-11-01", "2026-11-07", {"range": "24h"}) == \
        "/sites/s1?from=2026-11-01&to=2026-11-07"
    assert custom_range_href("/sites/s1", "2026-11-01", None, {}) is no_update
    assert custom_range_href("/sites/s1", "2026-11-07", "2026-11-01", {}) is no_update  # reversed
    same = {"from": "2026-11-01", "to": "2026-11-07"}
    assert custom_range_href("/sites/s1", "2026-11-01", "2026-11-07", same) is no_update
