"""promotions: campaigns, promotions, coupons and their batches, customer uses, redemptions
and per-line applications

Revision ID: pro0001
Revises: None
Create Date: 2026-12-07T05:11:04+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "pro0001"
down_revision = None
branch_labels = ("promotions",)
depends_on = None


def upgrade():
    op.create_table(
        "promotions_campaign",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("budget_amount", ExactNumeric(18, 4), nullable=True),
        sa.Column("budget_uses", sa.Integer(), nullable=True),
        sa.Column("spent", ExactNumeric(18, 4), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions_campaign")),
        sa.UniqueConstraint("name", name=op.f("uq_promotions_campaign_name")),
    )
    op.create_table(
        "promotions_promotion",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("draft", "active", "paused", "ended", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "percentage_off",
                "amount_off",
                "fixed_price",
                "buy_x_get_y",
                "free_shipping",
                "gift",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "target", sa.Enum("items", "order", native_enum=False, length=20), nullable=False
        ),
        sa.Column(
            "allocation",
            sa.Enum("each", "across", "once", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("percentage", ExactNumeric(18, 4), nullable=True),
        sa.Column("amount", ExactNumeric(18, 4), nullable=True),
        sa.Column("buy_quantity", sa.Integer(), nullable=True),
        sa.Column("get_quantity", sa.Integer(), nullable=True),
        sa.Column("get_product_id", sa.Integer(), nullable=True),
        sa.Column("gift_product_id", sa.Integer(), nullable=True),
        sa.Column("gift_quantity", ExactNumeric(18, 4), nullable=True),
        sa.Column("channel_ids", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("customer_tiers", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("segment_ids", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("product_ids", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("category_ids", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("min_subtotal", ExactNumeric(18, 4), nullable=True),
        sa.Column("min_quantity", ExactNumeric(18, 4), nullable=True),
        sa.Column("first_order", sa.Boolean(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["promotions_campaign.id"],
            name=op.f("fk_promotions_promotion_campaign_id_promotions_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["get_product_id"],
            ["inventory_product.id"],
            name=op.f("fk_promotions_promotion_get_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["gift_product_id"],
            ["inventory_product.id"],
            name=op.f("fk_promotions_promotion_gift_product_id_inventory_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions_promotion")),
    )
    with op.batch_alter_table("promotions_promotion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotions_promotion_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            "ix_promotions_promotion_candidates", ["automatic", "status"], unique=False
        )

    op.create_table(
        "promotions_coupon_batch",
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions_promotion.id"],
            name=op.f("fk_promotions_coupon_batch_promotion_id_promotions_promotion"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions_coupon_batch")),
    )
    with op.batch_alter_table("promotions_coupon_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotions_coupon_batch_promotion_id"), ["promotion_id"], unique=False
        )

    op.create_table(
        "promotions_customer_use",
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customer.id"],
            name=op.f("fk_promotions_customer_use_customer_id_crm_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions_promotion.id"],
            name=op.f("fk_promotions_customer_use_promotion_id_promotions_promotion"),
        ),
        sa.PrimaryKeyConstraint(
            "promotion_id", "customer_id", name=op.f("pk_promotions_customer_use")
        ),
    )
    op.create_table(
        "promotions_coupon",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["promotions_coupon_batch.id"],
            name=op.f("fk_promotions_coupon_batch_id_promotions_coupon_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions_promotion.id"],
            name=op.f("fk_promotions_coupon_promotion_id_promotions_promotion"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions_coupon")),
        sa.UniqueConstraint("code", name=op.f("uq_promotions_coupon_code")),
    )
    with op.batch_alter_table("promotions_coupon", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotions_coupon_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_promotions_coupon_promotion_id"), ["promotion_id"], unique=False
        )

    op.create_table(
        "promotions_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["promotions_coupon.id"],
            name=op.f("fk_promotions_application_coupon_id_promotions_coupon"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_promotions_application_order_id_orders_order"),
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["orders_order_line.id"],
            name=op.f("fk_promotions_application_order_line_id_orders_order_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions_promotion.id"],
            name=op.f("fk_promotions_application_promotion_id_promotions_promotion"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions_application")),
    )
    with op.batch_alter_table("promotions_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotions_application_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_promotions_application_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_promotions_application_promotion_id"), ["promotion_id"], unique=False
        )

    op.create_table(
        "promotions_redemption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("returned_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("customer_use", sa.Boolean(), nullable=False),
        sa.Column("redeemed_at", AwareDateTime(), nullable=False),
        sa.Column("released_at", AwareDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["promotions_campaign.id"],
            name=op.f("fk_promotions_redemption_campaign_id_promotions_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["promotions_coupon.id"],
            name=op.f("fk_promotions_redemption_coupon_id_promotions_coupon"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customer.id"],
            name=op.f("fk_promotions_redemption_customer_id_crm_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_promotions_redemption_order_id_orders_order"),
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions_promotion.id"],
            name=op.f("fk_promotions_redemption_promotion_id_promotions_promotion"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions_redemption")),
    )
    with op.batch_alter_table("promotions_redemption", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotions_redemption_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_promotions_redemption_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_promotions_redemption_promotion_id"), ["promotion_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("promotions_redemption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_redemption_promotion_id"))
        batch_op.drop_index(batch_op.f("ix_promotions_redemption_order_id"))
        batch_op.drop_index(batch_op.f("ix_promotions_redemption_campaign_id"))

    op.drop_table("promotions_redemption")
    with op.batch_alter_table("promotions_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_application_promotion_id"))
        batch_op.drop_index(batch_op.f("ix_promotions_application_order_line_id"))
        batch_op.drop_index(batch_op.f("ix_promotions_application_order_id"))

    op.drop_table("promotions_application")
    with op.batch_alter_table("promotions_coupon", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_coupon_promotion_id"))
        batch_op.drop_index(batch_op.f("ix_promotions_coupon_batch_id"))

    op.drop_table("promotions_coupon")
    op.drop_table("promotions_customer_use")
    with op.batch_alter_table("promotions_coupon_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_coupon_batch_promotion_id"))

    op.drop_table("promotions_coupon_batch")
    with op.batch_alter_table("promotions_promotion", schema=None) as batch_op:
        batch_op.drop_index("ix_promotions_promotion_candidates")
        batch_op.drop_index(batch_op.f("ix_promotions_promotion_campaign_id"))

    op.drop_table("promotions_promotion")
    op.drop_table("promotions_campaign")
