"""Count the duplicate rows of each lead list, and let a list be archived

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_list", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("duplicate_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))

    # Lists imported before this version: their duplicates are the refused rows saying so.
    op.execute(
        "UPDATE lead_list SET duplicate_count = ("
        "SELECT count(*) FROM refused_row WHERE refused_row.lead_list_id = lead_list.id "
        "AND refused_row.reason LIKE 'duplicate of row %')"
    )


def downgrade() -> None:
    with op.batch_alter_table("lead_list", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("duplicate_count")
