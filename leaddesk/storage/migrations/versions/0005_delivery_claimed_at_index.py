"""Index deliveries by the moment they were claimed, for counting caps

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_delivery_claimed_at", "delivery", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_delivery_claimed_at", table_name="delivery")
