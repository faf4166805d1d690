"""Maintenance windows and silences: alerts of a site, asset or rule (empty: any) raised while one
is in force are suppressed with its reason; each one created is an ``alert_silence.created`` event."""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerts.rules import RuleError
from bus.eventlog import record_event
from data.alert_queries import silence_json
from data.db import Database
from data.models import AlertRule, AlertSilence, Asset, Site

MAX_SILENCE = dt.timedelta(days=90)


class SilenceBody(BaseModel):
    """A maintenance window or silence to create (times tz-aware, ISO 8601)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["maintenance", "silence"]
    site_id: str | None = Field(None, max_length=64)
    asset_id: str | None = Field(None, max_length=80)
    rule_id: int | None = Field(None, ge=1, le=2_147_483_647)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _window(self) -> SilenceBody:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.ends_at - self.starts_at > MAX_SILENCE:
            raise ValueError(f"a window lasts at most {MAX_SILENCE.days} days")
        if self.site_id is None and self.asset_id is None and self.rule_id is None:
            raise ValueError("name a site_id, asset_id or rule_id: a window over everything would hide every alert")
        return self


def create_silence(db: Database, body: Any, actor: str) -> dict[str, Any]:
    """Validate and store a window; return it. Raises RuleError (422) naming the bad field."""
    try:
        data = SilenceBody.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors())
        raise RuleError(422, f"invalid window: {problems}") from None
    with db.session() as session:
        for model, key, name in ((Site, data.site_id, "site_id"), (Asset, data.asset_id, "asset_id"),
                                 (AlertRule, data.rule_id, "rule_id")):
            if key is not None and session.get(model, key) is None:
                raise RuleError(422, f"invalid window: {name}: no such {name[:-3]} {key!r}")
        row = AlertSilence(kind=data.kind, site_id=data.site_id, asset_id=data.asset_id, rule_id=data.rule_id,
                           starts_at=data.starts_at.astimezone(dt.UTC), ends_at=data.ends_at.astimezone(dt.UTC),
                           reason=data.reason, created_by=actor[:100])
        session.add(row)
        session.flush()
        out = silence_json(row)
        record_event(session, actor, "alert_silence.created", "alert_silence", str(row.id), out)
        return out
