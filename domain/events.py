"""The catalogue of event kinds written to the event log (``events.kind``) by the app today."""
from __future__ import annotations

from enum import Enum


class EventKind(str, Enum):
    """A kind of event; the value is the name stored in the event log."""

    alert_raised = "alert.raised"
    alert_suppressed = "alert.suppressed"
    alert_unsuppressed = "alert.unsuppressed"
    alert_escalated = "alert.escalated"
    alert_acknowledged = "alert.acknowledged"
    alert_resolved = "alert.resolved"
    alert_rule_created = "alert_rule.created"
    alert_rule_updated = "alert_rule.updated"
    alert_rule_enabled = "alert_rule.enabled"
    alert_rule_disabled = "alert_rule.disabled"
    alert_silence_created = "alert_silence.created"
    anomaly_detected = "anomaly.detected"
    dead_letter_replayed = "dead_letter.replayed"
    demo_seeded = "demo.seeded"
    integration_failed = "integration.failed"
    integration_recovered = "integration.recovered"
    secret_set = "secret.set"
    secret_deleted = "secret.deleted"
    secret_version_added = "secret.version_added"
    secret_version_retired = "secret.version_retired"
    token_created = "token.created"
    token_revoked = "token.revoked"
    user_created = "user.created"
    user_updated = "user.updated"
    user_locked = "user.locked"
    user_password_changed = "user.password_changed"
    user_role_changed = "user.role_changed"
    user_signed_in = "user.signed_in"
    user_sign_in_failed = "user.sign_in_failed"
    user_signed_out = "user.signed_out"


EVENT_KINDS: tuple[str, ...] = tuple(k.value for k in EventKind)
