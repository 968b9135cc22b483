"""first schema

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "affiliate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate")),
        sa.UniqueConstraint("name", name=op.f("uq_affiliate_name")),
    )
    op.create_table(
        "manager",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manager")),
        sa.UniqueConstraint("name", name=op.f("uq_manager_name")),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("name", name=op.f("uq_product_name")),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "lead_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("lead_count", sa.Integer(), nullable=False),
        sa.Column("refused_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["manager.id"], name=op.f("fk_lead_list_created_by_id_manager")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_list")),
        sa.UniqueConstraint("title", name=op.f("uq_lead_list_title")),
    )
    op.create_table(
        "offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_offer_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer")),
        sa.UniqueConstraint("name", name=op.f("uq_offer_name")),
    )
    op.create_table(
        "distribution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("lead_list_id", sa.Integer(), nullable=False),
        sa.Column("affiliate_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("period_unit", sa.String(length=8), nullable=False),
        sa.Column("period_value", sa.Integer(), nullable=False),
        sa.Column("fixed_fields", sa.JSON(), nullable=False),
        sa.Column("data_setting", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("anchor_at", sa.DateTime(), nullable=True),
        sa.Column("anchor_index", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("last_lead_label", sa.String(length=200), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["affiliate_id"], ["affiliate.id"], name=op.f("fk_distribution_affiliate_id_affiliate")
        ),
        sa.ForeignKeyConstraint(
            ["lead_list_id"], ["lead_list.id"], name=op.f("fk_distribution_lead_list_id_lead_list")
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["manager.id"], name=op.f("fk_distribution_manager_id_manager")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_distribution_offer_id_offer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution")),
    )
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_distribution_affiliate_id"), ["affiliate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_distribution_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_distribution_lead_list_id"), ["lead_list_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_distribution_manager_id"), ["manager_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_distribution_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distribution_status"), ["status"], unique=False)

    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_list_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_list_id"], ["lead_list.id"], name=op.f("fk_lead_lead_list_id_lead_list")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead")),
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_lead_list_id"), ["lead_list_id"], unique=False)

    op.create_table(
        "refused_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_list_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_list_id"], ["lead_list.id"], name=op.f("fk_refused_row_lead_list_id_lead_list")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_row")),
    )
    with op.batch_alter_table("refused_row", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refused_row_lead_list_id"), ["lead_list_id"], unique=False
        )

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("distribution_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.Column("advertiser_lead_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["distribution.id"],
            name=op.f("fk_delivery_distribution_id_distribution"),
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], name=op.f("fk_delivery_lead_id_lead")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "distribution_id", "lead_id", name=op.f("uq_delivery_distribution_id")
        ),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_distribution_state_position",
            ["distribution_id", "state", "position"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_distribution_state_position")

    op.drop_table("delivery")
    with op.batch_alter_table("refused_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refused_row_lead_list_id"))

    op.drop_table("refused_row")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_lead_list_id"))

    op.drop_table("lead")
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distribution_status"))
        batch_op.drop_index(batch_op.f("ix_distribution_offer_id"))
        batch_op.drop_index(batch_op.f("ix_distribution_manager_id"))
        batch_op.drop_index(batch_op.f("ix_distribution_lead_list_id"))
        batch_op.drop_index(batch_op.f("ix_distribution_created_at"))
        batch_op.drop_index(batch_op.f("ix_distribution_affiliate_id"))

    op.drop_table("distribution")
    op.drop_table("offer")
    op.drop_table("lead_list")
    op.drop_table("setting")
    op.drop_table("product")
    op.drop_table("manager")
    op.drop_table("affiliate")
