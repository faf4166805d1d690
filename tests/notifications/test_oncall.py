"""Rotations, overrides, quiet hours and policy matching (pure functions)."""
from __future__ import annotations

import datetime as dt

import pytest

from notifications import oncall

T0 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)  # a Monday 09:00 UTC


def test_weekly_rotation_takes_turns_and_wraps():
    members = [1, 2, 3]
    assert oncall.on_call(members, T0, 168, T0) == 1
    assert oncall.on_call(members, T0, 168, T0 + dt.timedelta(days=6, hours=23)) == 1
    assert oncall.on_call(members, T0, 168, T0 + dt.timedelta(days=7)) == 2
    assert oncall.on_call(members, T0, 168, T0 + dt.timedelta(days=21)) == 1
    assert oncall.on_call(members, T0, 168, T0 - dt.timedelta(hours=1)) == 3  # before the start: backwards


def test_override_wins_and_the_latest_override_wins():
    at = T0 + dt.timedelta(hours=5)
    overrides = [(7, T0, T0 + dt.timedelta(hours=8)), (8, T0 + dt.timedelta(hours=4), T0 + dt.timedelta(hours=6))]
    assert oncall.on_call([1, 2], T0, 12, at, overrides) == 8
    assert oncall.on_call([1, 2], T0, 12, T0 + dt.timedelta(hours=7), overrides) == 7
    assert oncall.on_call([1, 2], T0, 12, T0 + dt.timedelta(hours=8), overrides) == 1  # end is exclusive
    assert oncall.on_call([], T0, 12, at) is None


def test_quiet_hours_wrap_midnight_in_the_users_zone():
    # 22:00-07:00 in Paris (UTC+1 in December): 23:30 local is 22:30 UTC
    at = dt.datetime(2026, 12, 7, 22, 30, tzinfo=dt.UTC)
    until = oncall.quiet_until("Europe/Paris", 22 * 60, 7 * 60, at)
    assert until == dt.datetime(2026, 12, 8, 6, 0, tzinfo=dt.UTC)
    early = dt.datetime(2026, 12, 8, 5, 0, tzinfo=dt.UTC)  # 06:00 local
    assert oncall.quiet_until("Europe/Paris", 22 * 60, 7 * 60, early) == dt.datetime(2026, 12, 8, 6, 0, tzinfo=dt.UTC)
    assert oncall.quiet_until("Europe/Paris", 22 * 60, 7 * 60, dt.datetime(2026, 12, 8, 12, 0, tzinfo=dt.UTC)) is None
    assert oncall.quiet_until("UTC", 12 * 60, 14 * 60, dt.datetime(2026, 12, 8, 13, 0, tzinfo=dt.UTC)) == \
        dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.UTC)
    assert oncall.quiet_until("UTC", None, None, at) is None


def test_policy_matching_by_severity_and_site():
    assert oncall.policy_matches("warning", [], "critical", None)
    assert not oncall.policy_matches("critical", [], "warning", "s1")
    assert oncall.policy_matches("info", ["s1"], "info", "s1")
    assert not oncall.policy_matches("info", ["s1"], "info", "s2")
    assert not oncall.policy_matches("info", ["s1"], "info", None)


def test_stages_are_validated_with_the_field_named():
    stages = oncall.parse_stages([{"delay_min": 0, "targets": [{"type": "schedule", "id": 1}]},
                                  {"delay_min": 15, "targets": [{"type": "user", "id": 2}]}])
    assert oncall.stage_start_offsets(stages) == [0, 15]
    with pytest.raises(oncall.PolicyError, match="stage 2: targets"):
        oncall.parse_stages([{"targets": [{"type": "user", "id": 1}]}, {"targets": []}])
    with pytest.raises(oncall.PolicyError, match="stage 1: delay_min"):
        oncall.parse_stages([{"delay_min": -1, "targets": [{"type": "user", "id": 1}]}])
    with pytest.raises(oncall.PolicyError, match="at least one stage"):
        oncall.parse_stages([])


def test_clock_and_zone_errors_are_named():
    assert oncall.parse_clock("07:30", "end") == 450
    with pytest.raises(oncall.PolicyError, match="start: '25:00'"):
        oncall.parse_clock("25:00", "start")
    with pytest.raises(oncall.PolicyError, match="Mars/Olympus"):
        oncall.zone("Mars/Olympus")
