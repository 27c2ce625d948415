"""Orders: channels, orders, lines, review policies.

Revision ID: ord0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "ord0001"
down_revision = None
branch_labels = ("orders",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders_review_policy",
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("threshold", ExactNumeric(18, 4), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_review_policy")),
        sa.UniqueConstraint("rule", name=op.f("uq_orders_review_policy_rule")),
    )
    op.create_table(
        "orders_channel",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("driver", sa.String(length=60), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("import_cursor", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_orders_channel_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_channel")),
        sa.UniqueConstraint("code", name=op.f("uq_orders_channel_code")),
    )
    op.create_table(
        "orders_order",
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("external_reference", sa.String(length=120), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("ship_name", sa.String(length=200), nullable=True),
        sa.Column("ship_line1", sa.String(length=200), nullable=True),
        sa.Column("ship_line2", sa.String(length=200), nullable=True),
        sa.Column("ship_city", sa.String(length=100), nullable=True),
        sa.Column("ship_postal_code", sa.String(length=20), nullable=True),
        sa.Column("ship_region", sa.String(length=100), nullable=True),
        sa.Column("ship_country", sa.String(length=2), nullable=True),
        sa.Column("bill_name", sa.String(length=200), nullable=True),
        sa.Column("bill_line1", sa.String(length=200), nullable=True),
        sa.Column("bill_line2", sa.String(length=200), nullable=True),
        sa.Column("bill_city", sa.String(length=100), nullable=True),
        sa.Column("bill_postal_code", sa.String(length=20), nullable=True),
        sa.Column("bill_region", sa.String(length=100), nullable=True),
        sa.Column("bill_country", sa.String(length=2), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("shipping_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("subtotal", ExactNumeric(18, 4), nullable=False),
        sa.Column("discount_total", ExactNumeric(18, 4), nullable=False),
        sa.Column("tax_total", ExactNumeric(18, 4), nullable=False),
        sa.Column("total", ExactNumeric(18, 4), nullable=False),
        sa.Column("review_reasons", sa.Text(), nullable=True),
        sa.Column("placed_at", AwareDateTime(), nullable=True),
        sa.Column("split_from_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["orders_channel.id"],
            name=op.f("fk_orders_order_channel_id_orders_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customer.id"],
            name=op.f("fk_orders_order_customer_id_crm_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_orders_order_warehouse_id_inventory_warehouse"),
        ),
        sa.ForeignKeyConstraint(
            ["split_from_id"],
            ["orders_order.id"],
            name=op.f("fk_orders_order_split_from_id_orders_order"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["orders_order.id"],
            name=op.f("fk_orders_order_merged_into_id_orders_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_order")),
        sa.UniqueConstraint(
            "channel_id",
            "external_reference",
            name=op.f("uq_orders_order_channel_id_external_reference"),
        ),
        sa.UniqueConstraint("number", name=op.f("uq_orders_order_number")),
    )
    op.create_index(
        op.f("ix_orders_order_channel_id"), "orders_order", ["channel_id"], unique=False
    )
    op.create_index(
        op.f("ix_orders_order_customer_id"), "orders_order", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_orders_order_state"), "orders_order", ["state"], unique=False)
    op.create_table(
        "orders_order_line",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("unit_price", ExactNumeric(18, 4), nullable=False),
        sa.Column("discount", ExactNumeric(18, 4), nullable=False),
        sa.Column("tax_rate", ExactNumeric(18, 4), nullable=False),
        sa.Column("line_net", ExactNumeric(18, 4), nullable=False),
        sa.Column("line_tax", ExactNumeric(18, 4), nullable=False),
        sa.Column("line_total", ExactNumeric(18, 4), nullable=False),
        sa.Column("quantity_shipped", ExactNumeric(18, 4), nullable=False),
        sa.Column("quantity_returned", ExactNumeric(18, 4), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_order_line_positive_quantity")),
        sa.CheckConstraint(
            "quantity_shipped <= quantity", name=op.f("ck_orders_order_line_not_over_shipped")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_orders_order_line_order_id_orders_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_orders_order_line_product_id_inventory_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_order_line")),
    )
    op.create_index(
        op.f("ix_orders_order_line_order_id"), "orders_order_line", ["order_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("orders_order_line")
    op.drop_table("orders_order")
    op.drop_table("orders_channel")
    op.drop_table("orders_review_policy")
