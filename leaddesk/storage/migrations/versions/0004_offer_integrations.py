"""Offer integrations, kept secrets, delivery details, and why a distribution waits

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("config", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(
            sa.Column("send_rules", sa.JSON(), server_default="{}", nullable=False)
        )

    op.create_table(
        "offer_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("offer_id", "name"),
    )

    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("waiting_reason", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("waiting_until", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("status_reason", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("send_rules", sa.JSON(), server_default="{}", nullable=False)
        )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verdict", sa.String(length=16), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("duration_ms", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("autologin_url", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "generated_password", sa.String(length=100), server_default="", nullable=False
            )
        )
        batch_op.add_column(sa.Column("history", sa.JSON(), server_default="[]", nullable=False))

    # Offers made before integrations posted every lead field as JSON to their URL: say so
    # in their configuration, so they go on sending exactly as before (plain http included,
    # which the manager chose when creating them).
    offers = sa.table("offer", sa.column("id", sa.Integer), sa.column("url", sa.Text))
    connection = op.get_bind()
    for offer_id, url in connection.execute(sa.select(offers.c.id, offers.c.url)).all():
        endpoint = {"url": url, "allow_plain_http": url.lower().startswith("http:")}
        connection.execute(
            sa.text("UPDATE offer SET config = :config WHERE id = :id"),
            {"config": json.dumps({"endpoint": endpoint}), "id": offer_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        for column in ("history", "generated_password", "autologin_url", "duration_ms", "verdict"):
            batch_op.drop_column(column)
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        for column in ("send_rules", "status_reason", "waiting_until", "waiting_reason"):
            batch_op.drop_column(column)
    op.drop_table("offer_secret")
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_column("send_rules")
        batch_op.drop_column("config")
