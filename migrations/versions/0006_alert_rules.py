"""Alert rules as data (``alert_rules``), maintenance windows and silences (``alert_silences``), and
the alert columns the lifecycle needs (rule_id, resolved_by, comments, suppressed_reason,
occurrences, updated_at). The new alert state ``suppressed`` needs no DDL (the enum is a string).

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from data.models import UTCDateTime

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create alert_rules and alert_silences; add the lifecycle columns to alerts."""
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_alert_rules_kind", "alert_rules", ["kind"])
    op.create_index("ix_alert_rules_site_id", "alert_rules", ["site_id"])
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=True),
        sa.Column("asset_id", sa.String(80), sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=True),
        sa.Column("rule_id", sa.Integer(), sa.ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=True),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alert_silences_site_id", "alert_silences", ["site_id"])
    op.create_index("ix_alert_silences_ends_at", "alert_silences", ["ends_at"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("rule_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("ack_comment", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("resolve_comment", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("suppressed_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("occurrences", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("updated_at", UTCDateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_alerts_rule_id", "alert_rules", ["rule_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_alerts_rule_id", ["rule_id"])


def downgrade() -> None:
    """Drop the lifecycle columns of alerts, then alert_silences and alert_rules."""
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_rule_id")
        batch.drop_constraint("fk_alerts_rule_id", type_="foreignkey")
        for name in ("updated_at", "occurrences", "suppressed_reason", "resolve_comment", "ack_comment",
                     "resolved_by", "rule_id"):
            batch.drop_column(name)
    op.drop_index("ix_alert_silences_ends_at", table_name="alert_silences")
    op.drop_index("ix_alert_silences_site_id", table_name="alert_silences")
    op.drop_table("alert_silences")
    op.drop_index("ix_alert_rules_site_id", table_name="alert_rules")
    op.drop_index("ix_alert_rules_kind", table_name="alert_rules")
    op.drop_table("alert_rules")
