"""Server-side sessions (``auth_sessions``) and the persisted webhook replay cache (``webhook_receipts``).

Revision ID: 0004
Revises: 0003_dead_letter_attempts (re-chain onto 0003 when both branches are merged)
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from data.models import UTCDateTime

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003_dead_letter_attempts"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create the session and webhook receipt tables."""
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])
    op.create_index("ix_auth_sessions_token_id", "auth_sessions", ["token_id"])
    op.create_table(
        "webhook_receipts",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_webhook_receipts_expires_at", "webhook_receipts", ["expires_at"])


def downgrade() -> None:
    """Drop the session and webhook receipt tables."""
    op.drop_index("ix_webhook_receipts_expires_at", table_name="webhook_receipts")
    op.drop_table("webhook_receipts")
    op.drop_index("ix_auth_sessions_token_id", table_name="auth_sessions")
    op.drop_index("ix_auth_sessions_user_id", table_name="auth_sessions")
    op.drop_table("auth_sessions")
