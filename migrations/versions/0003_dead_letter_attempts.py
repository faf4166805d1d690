"""Dead letters count their replay attempts: last error and last attempt time on the original row.

Revision ID: 0003_dead_letter_attempts
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import data.models

revision: str = "0003_dead_letter_attempts"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add ``last_error`` and ``last_attempt_at`` to ``dead_letters``."""
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", data.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("last_error")
