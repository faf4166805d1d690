"""Crying wolf: raise/clear cycles of a plain threshold vs what reaches a person with hysteresis,
durations and flap suppression, on a recorded noisy real signal, and whether a real episode is missed.

    .venv/bin/python bench/alert_noise.py [--level 12] [--clear 10] [--raise-after 10] [--clear-after 120]

Signal: the 10-minute mean wind speed (``Ws_avg``, m/s) of the four La Haute Borne turbines,
2014-2015 (``demo_data/wind/la_haute_borne_scada_2014_2015_10min.csv.gz``, Engie open data, see
demo_data/SOURCES.md). Rule: "wind above 12 m/s: no climbing" per turbine.

* plain: :class:`alerts.conditions.ThresholdMachine` with raise = clear = 12 m/s, no durations;
  every raise is a page.
* then stored ``threshold`` rules run by the real evaluator and lifecycle (SQLite, in-process bus,
  points in time order, the minute housekeeping in data time), flap suppression on (4 changes in
  60 min): the plain threshold alone; with hysteresis (clear 10 m/s) and durations (raise after
  10 min, clear after 120 quiet min) per turbine; the same with one alert per site. A page is an
  ``alert.changed`` message with state ``open`` (raised, unsuppressed, escalated).
* real episodes (judged independently of both): the 60-minute rolling mean of the wind speed at
  or above 12 m/s for at least 30 minutes. An episode is caught when an alert that reached a
  person was active at some time within it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alerts.conditions import plain_threshold, run_machine  # noqa: E402
from alerts.evaluator import RuleEngine  # noqa: E402
from alerts.lifecycle import ALERT_CHANGED_TOPIC, AlertBook  # noqa: E402
from alerts.rules import create_rule  # noqa: E402
from bus.inprocess import InProcessBus  # noqa: E402
from data.db import Database  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.models import Asset, AssetKind, Portfolio, Site, SiteKind  # noqa: E402

SOURCE = REPO / "demo_data" / "wind" / "la_haute_borne_scada_2014_2015_10min.csv.gz"


def real_episodes(series: pd.Series, level: float) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Return [(start, end)] where the 60-min rolling mean stays >= level for >= 30 min."""
    rolling = series.rolling("60min").mean()
    above = rolling >= level
    runs = (above != above.shift()).cumsum()
    out = []
    for _, grp in above[above].groupby(runs[above]):
        if grp.index[-1] - grp.index[0] >= pd.Timedelta(minutes=30):
            out.append((grp.index[0], grp.index[-1]))
    return out


def run_pipeline(frame: pd.DataFrame, turbines: list[str], definition: dict) -> list[dict]:
    """Run ``definition`` (a threshold rule) through the real evaluator and lifecycle on a fresh
    SQLite store; return every ``alert.changed`` message."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'noise.db'}")
        upgrade_to_head(db)
        with db.session() as s:
            s.add(Portfolio(id="lhb", name="La Haute Borne"))
            s.add(Site(id="lhb", portfolio_id="lhb", name="La Haute Borne", kind=SiteKind.wind, capacity_mw=8.2,
                       market="EPEX", latitude=48.45, longitude=5.59))
            s.flush()
            for t in turbines:
                s.add(Asset(id=t, site_id="lhb", name=t, kind=AssetKind.turbine, capacity_kw=2050.0))
        bus = InProcessBus(db)
        book = AlertBook(db, bus)
        engine = RuleEngine(db, book)
        messages: list[dict] = []
        bus.subscribe(ALERT_CHANGED_TOPIC, messages.append, group="bench")
        create_rule(db, definition, "bench")
        engine.load()
        # the evaluator sees the points in time order, as the store hands them over
        merged = frame.sort_values("time_utc")
        rows = [(str(a), "wind_speed_ms", ts.to_pydatetime(), float(v))
                for ts, a, v in zip(merged["time_utc"], merged["turbine"], merged["Ws_avg"], strict=True)]
        last_settle = rows[0][2]
        for i in range(0, len(rows), len(turbines)):
            engine.on_stored(rows[i:i + len(turbines)])
            if rows[i][2] - last_settle >= dt.timedelta(minutes=1):  # the minute sweep's housekeeping, data time
                book.settle(rows[i][2])
                last_settle = rows[i][2]
        book.settle(rows[-1][2] + dt.timedelta(hours=2))
        bus.close()
        db.dispose()
    return messages


def coverage(messages: list[dict], episodes: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]) -> tuple[int, int]:
    """Return (episodes, missed): an episode is caught when an alert that reached a person (its
    turbine's, or its site's) was active at some time within it."""
    first_page: dict[int, dt.datetime] = {}
    ended: dict[int, dt.datetime] = {}
    asset_of: dict[int, str | None] = {}
    for m in messages:
        asset_of[m["alert_id"]] = m["asset_id"]
        if m["state"] == "open":
            first_page.setdefault(m["alert_id"], dt.datetime.fromisoformat(m["ts"]))
        if m["state"] == "resolved":
            ended[m["alert_id"]] = dt.datetime.fromisoformat(m["ts"])
    far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    total = missed = 0
    for t, eps in episodes.items():
        windows = [(first_page[a], ended.get(a, far)) for a in first_page if asset_of[a] in (t, None)]
        for start, end in eps:
            total += 1
            s0, e0 = start.to_pydatetime(), end.to_pydatetime()
            if not any(ws <= e0 and we >= s0 for ws, we in windows):
                missed += 1
    return total, missed


def main() -> None:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--level", type=float, default=12.0)
    parser.add_argument("--clear", type=float, default=10.0)
    parser.add_argument("--raise-after", type=float, default=10.0)
    parser.add_argument("--clear-after", type=float, default=120.0)
    args = parser.parse_args()
    frame = pd.read_csv(SOURCE, usecols=["time_utc", "turbine", "Ws_avg"], parse_dates=["time_utc"]).dropna()
    frame = frame.drop_duplicates(["time_utc", "turbine"])
    turbines = sorted(frame["turbine"].unique())
    plain_cycles = 0
    episodes: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for t in turbines:
        series = frame[frame["turbine"] == t].set_index("time_utc")["Ws_avg"].sort_index()
        samples = [(ts.to_pydatetime(), float(v)) for ts, v in series.items()]
        plain_cycles += sum(1 for _ts, c in run_machine(plain_threshold("above", args.level), samples) if c == "raise")
        episodes[t] = real_episodes(series, args.level)
    print(f"signal: 10-min wind speed of {len(turbines)} La Haute Borne turbines, 2014-2015 "
          f"({len(frame):,} samples); rule: above {args.level:g} m/s")
    print(f"real episodes (60-min mean >= {args.level:g} m/s for >= 30 min): {sum(map(len, episodes.values())):,}")
    print(f"plain threshold ({args.level:g} m/s, no hysteresis, no durations): {plain_cycles:,} raise/clear cycles")
    base = {"kind": "threshold", "name": "no climbing", "metric": "wind_speed_ms", "direction": "above",
            "raise_level": args.level}
    runs = [
        ("plain threshold + flap suppression (4 changes / 60 min)", {**base, "clear_level": args.level}),
        (f"+ hysteresis {args.level:g}/{args.clear:g} m/s, raise after {args.raise_after:g} min, clear after "
         f"{args.clear_after:g} min, one alert per turbine",
         {**base, "clear_level": args.clear, "raise_after_min": args.raise_after, "clear_after_min": args.clear_after}),
        ("  the same, one alert per site (dedup over its turbines)",
         {**base, "clear_level": args.clear, "raise_after_min": args.raise_after, "clear_after_min": args.clear_after,
          "group": "site"}),
    ]
    for label, definition in runs:
        messages = run_pipeline(frame, turbines, definition)
        pages = sum(m["state"] == "open" for m in messages)
        total, missed = coverage(messages, episodes)
        print(f"{label}: {pages:,} pages ({len({m['alert_id'] for m in messages}):,} alerts, "
              f"{sum(m['state'] == 'suppressed' for m in messages):,} hidden as flapping), "
              f"{100.0 * (1 - pages / plain_cycles):.1f} % fewer than the plain threshold; "
              f"real episodes missed: {missed} of {total}")


if __name__ == "__main__":
    main()
