"""Who is on call, who gets paged, and when: schedules, overrides, quiet hours, escalation policies.

* A schedule is a rotation: ``members`` take shifts of ``shift_hours`` in turn, the first shift
  starting at ``rotation_start`` (before it, the rotation runs backwards the same way). An
  override covering the instant wins over the rotation (the most recently added one when several
  do).
* Quiet hours are a window of local wall-clock time in the user's time zone (it may wrap past
  midnight, 22:00-07:00); during it a notification below ``quiet_bypass_severity`` waits for the
  window's end. A window with equal start and end is empty.
* An escalation policy is a list of stages; a stage names users and schedules and starts
  ``delay_min`` minutes after the previous one (the first one after the alert opened), until someone
  acknowledges; ``repeat`` runs the whole list again that many times.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SEVERITIES = ("info", "warning", "critical")


def severity_rank(severity: str) -> int:
    """Return 0 for info, 1 for warning, 2 for critical (an unknown severity ranks as warning)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 1


class PolicyError(ValueError):
    """An escalation policy, schedule or quiet-hours setting that cannot be used; the text names the field."""


class Target(BaseModel):
    """Who a stage pages: a user, or whoever is on call for a schedule."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["user", "schedule"]
    id: int = Field(ge=1)


class Stage(BaseModel):
    """One escalation stage."""

    model_config = ConfigDict(extra="forbid")

    delay_min: float = Field(0, ge=0, le=24 * 60, description="minutes after the previous stage")
    targets: list[Target] = Field(min_length=1)


def parse_stages(raw: Any) -> list[Stage]:
    """Return the stages of a policy from their JSON form; raise PolicyError naming the bad field."""
    if not isinstance(raw, list) or not raw:
        raise PolicyError("stages: a policy needs at least one stage")
    stages = []
    for i, item in enumerate(raw):
        try:
            stages.append(Stage.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            raise PolicyError(f"stage {i + 1}: {loc or 'stage'}: {first.get('msg')}") from None
    return stages


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone ``name``; raise PolicyError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"time zone {name!r} is not an IANA zone such as Europe/Paris or UTC") from None


def on_call(members: Sequence[int], rotation_start: dt.datetime, shift_hours: float, at: dt.datetime,
            overrides: Iterable[tuple[int, dt.datetime, dt.datetime]] = ()) -> int | None:
    """Return the user on call at ``at``: an override (user, start, end) covering it, else the rotation's.

    Overrides are given oldest first; the last one covering ``at`` wins. None when nobody is.
    """
    chosen = None
    for user_id, start, end in overrides:
        if start <= at < end:
            chosen = user_id
    if chosen is not None:
        return chosen
    if not members or shift_hours <= 0:
        return None
    shifts = math.floor((at - rotation_start).total_seconds() / (shift_hours * 3600.0))
    return members[shifts % len(members)]


def shift_bounds(rotation_start: dt.datetime, shift_hours: float, at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Return [start, end) of the rotation shift holding ``at``."""
    length = dt.timedelta(hours=shift_hours)
    n = math.floor((at - rotation_start) / length)
    start = rotation_start + n * length
    return start, start + length


def parse_clock(text: str, field: str) -> int:
    """Return minutes after midnight of ``HH:MM``; raise PolicyError naming ``field``."""
    try:
        hours, minutes = (int(p) for p in text.strip().split(":"))
    except (ValueError, AttributeError):
        raise PolicyError(f"{field}: {text!r} is not a time like 22:00") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise PolicyError(f"{field}: {text!r} is not a time of day (00:00 to 23:59)")
    return hours * 60 + minutes


def format_clock(minutes: int | None) -> str:
    """Return ``HH:MM`` of minutes after midnight ('' for None)."""
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def quiet_until(timezone: str, start_min: int | None, end_min: int | None, at: dt.datetime) -> dt.datetime | None:
    """Return when the quiet window holding ``at`` ends (UTC), or None when ``at`` is not in one."""
    if start_min is None or end_min is None or start_min == end_min:
        return None
    local = at.astimezone(zone(timezone))
    minute = local.hour * 60 + local.minute
    inside = start_min <= minute < end_min if start_min < end_min else (minute >= start_min or minute < end_min)
    if not inside:
        return None
    end_day = local.date() if minute < end_min else local.date() + dt.timedelta(days=1)
    end_local = dt.datetime.combine(end_day, dt.time(end_min // 60, end_min % 60), tzinfo=local.tzinfo)
    return end_local.astimezone(dt.UTC)


def policy_matches(min_severity: str, site_ids: Sequence[str], severity: str, site_id: str | None) -> bool:
    """Return whether a policy with ``min_severity`` and ``site_ids`` (empty: all) covers an alert."""
    if severity_rank(severity) < severity_rank(min_severity):
        return False
    return not site_ids or (site_id is not None and site_id in site_ids)


def stage_start_offsets(stages: Sequence[Stage]) -> list[float]:
    """Return each stage's start in minutes after the alert opened (cumulative delays)."""
    out, total = [], 0.0
    for stage in stages:
        total += stage.delay_min
        out.append(total)
    return out
