"""The energy rule's array form agrees with the scalar definition, and the store's in-order
segments agree with a loop over the points by that definition."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.energy import segment_kwh, segment_kwh_array
from ingest.energy import in_order_segments

MAX_GAP = 900.0
power = st.floats(min_value=-5_000, max_value=5_000, allow_nan=False)
gap = st.floats(min_value=-10, max_value=2_000, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(power, power, gap), min_size=1, max_size=50))
def test_array_form_equals_the_scalar_definition(segments):
    p0, p1, dt_s = (np.array(column) for column in zip(*segments, strict=True))
    expected = [segment_kwh(a, b, d, MAX_GAP) for a, b, d in segments]
    assert segment_kwh_array(p0, p1, dt_s, MAX_GAP).tolist() == expected


def _loop(points: dict[str, list[tuple[float, float]]], latest: dict[str, tuple[float, float]]):
    """The rule written as a loop: each asset from its latest stored point through its new ones."""
    sums: dict[tuple[str, int], float] = {}
    late = set()
    for asset, pts in points.items():
        pts = sorted(pts)
        previous = latest.get(asset)
        if previous is not None and pts[0][0] <= previous[0]:
            late.add(asset)
            continue
        for ts, kw in pts:
            if previous is not None and 0 < ts - previous[0] <= MAX_GAP:
                key = (asset, int(previous[0] // 900) * 900)
                sums[key] = sums.get(key, 0.0) + segment_kwh(previous[1], kw, ts - previous[0], MAX_GAP)
            previous = (ts, kw)
    return sums, late


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]),
                       st.lists(st.tuples(st.integers(1_700_000_000, 1_700_010_000), power), min_size=1, max_size=30,
                                unique_by=lambda p: p[0]), min_size=1),
       st.dictionaries(st.sampled_from(["a", "b", "c", "e"]), st.tuples(st.integers(1_699_999_000, 1_700_003_000), power)))
def test_in_order_segments_equal_the_loop(points, latest):
    latest = {a: (float(t), kw) for a, (t, kw) in latest.items()}
    rows = [(a, float(t), kw) for a, pts in points.items() for t, kw in pts]
    rows.reverse()  # any order in
    segments, late = in_order_segments([r[0] for r in rows], np.array([r[1] for r in rows]),
                                       np.array([r[2] for r in rows]), latest, MAX_GAP)
    expected, expected_late = _loop({a: [(float(t), kw) for t, kw in pts] for a, pts in points.items()}, latest)
    assert late == expected_late
    assert {(a, start): kwh for a, start, kwh in segments} == expected  # same sums, same order of addition
