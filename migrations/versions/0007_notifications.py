"""Notifications and on-call: the outbox columns of ``notifications``, its attempts, contact methods,
quiet hours, on-call schedules with overrides, escalation policies and each alert's escalation.

Independent of the alert rules (issue 16's other half, revision 0006): it reads only ``alerts``
and ``users``, so it re-chains after 0006 by changing ``down_revision`` alone.

Revision ID: 0007
Revises: 0006
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from data.models import UTCDateTime

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create the on-call tables and add the outbox columns to ``notifications``."""
    op.create_table(
        "contact_methods",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("label", sa.String(100), nullable=False, server_default=""),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("slack_user_id", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_contact_methods_user_id", "contact_methods", ["user_id"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("quiet_start_min", sa.Integer(), nullable=True),
        sa.Column("quiet_end_min", sa.Integer(), nullable=True),
        sa.Column("quiet_bypass_severity", sa.String(16), nullable=False, server_default="critical"),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "oncall_schedules",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("rotation_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("shift_hours", sa.Float(), nullable=False, server_default="168"),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("schedule_id", sa.Integer(), sa.ForeignKey("oncall_schedules.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
    )
    op.create_index("ix_oncall_overrides_schedule_id", "oncall_overrides", ["schedule_id"])
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("min_severity", sa.String(16), nullable=False, server_default="info"),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "alert_escalations",
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("policy_id", sa.Integer(), sa.ForeignKey("escalation_policies.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("stage", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("round", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_stage_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="active"),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("alert_snapshot", sa.JSON(), nullable=False),
    )
    op.create_index("ix_alert_escalations_next_stage_at", "alert_escalations", ["next_stage_at"])
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("contact_method_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="open"))
        batch.add_column(sa.Column("stage", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("dedup_key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("body", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("severity", sa.String(16), nullable=False, server_default="warning"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(64), nullable=True))
        batch.add_column(sa.Column("fallback_of_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_notifications_user_id", "users", ["user_id"], ["id"], ondelete="SET NULL")
        batch.create_foreign_key("fk_notifications_contact_method_id", "contact_methods", ["contact_method_id"],
                                 ["id"], ondelete="SET NULL")
        batch.create_foreign_key("fk_notifications_fallback_of_id", "notifications", ["fallback_of_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_unique_constraint("uq_notifications_dedup_key", ["dedup_key"])
        batch.create_index("ix_notifications_user_id", ["user_id"])
        batch.create_index("ix_notifications_next_attempt_at", ["next_attempt_at"])
        batch.create_index("ix_notifications_provider_message_id", ["provider_message_id"])
    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("notification_id", sa.Integer(), sa.ForeignKey("notifications.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("provider_message_id", sa.String(100), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_notification_attempts_notification_id", "notification_attempts", ["notification_id"])


def downgrade() -> None:
    """Drop the on-call tables and the outbox columns."""
    op.drop_index("ix_notification_attempts_notification_id", table_name="notification_attempts")
    op.drop_table("notification_attempts")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_provider_message_id")
        batch.drop_index("ix_notifications_next_attempt_at")
        batch.drop_index("ix_notifications_user_id")
        batch.drop_constraint("uq_notifications_dedup_key", type_="unique")
        batch.drop_constraint("fk_notifications_fallback_of_id", type_="foreignkey")
        batch.drop_constraint("fk_notifications_contact_method_id", type_="foreignkey")
        batch.drop_constraint("fk_notifications_user_id", type_="foreignkey")
        for name in ("fallback_of_id", "delivery_status", "delivered_at", "claimed_at", "next_attempt_at", "attempts",
                     "severity", "body", "subject", "dedup_key", "stage", "kind", "contact_method_id", "user_id"):
            batch.drop_column(name)
    op.drop_index("ix_alert_escalations_next_stage_at", table_name="alert_escalations")
    op.drop_table("alert_escalations")
    op.drop_table("escalation_policies")
    op.drop_index("ix_oncall_overrides_schedule_id", table_name="oncall_overrides")
    op.drop_table("oncall_overrides")
    op.drop_table("oncall_schedules")
    op.drop_table("notification_preferences")
    op.drop_index("ix_contact_methods_user_id", table_name="contact_methods")
    op.drop_table("contact_methods")
