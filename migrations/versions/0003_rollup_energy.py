"""Rollups carry their energy: ``telemetry_rollups.energy_kwh`` (trapezoid of power_kw segments).

Existing rows start at 0: the energy of days ingested before this revision is not back-computed
(their raw points may already be pruned); new points add their segments at ingest.

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add ``energy_kwh FLOAT NOT NULL DEFAULT 0`` to telemetry_rollups."""
    with op.batch_alter_table("telemetry_rollups") as batch:
        batch.add_column(sa.Column("energy_kwh", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop ``telemetry_rollups.energy_kwh``."""
    with op.batch_alter_table("telemetry_rollups") as batch:
        batch.drop_column("energy_kwh")
