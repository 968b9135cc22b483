"""Index the deliveries left in flight, which a starting sender settles

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_delivery_in_flight",
        "delivery",
        ["state"],
        sqlite_where=sa.text("state = 'in_flight'"),
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_in_flight", table_name="delivery")
