"""Inventory: catalogue, warehouses, ledger, reservations, alerts, counts, transfers.

Revision ID: inv0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "inv0001"
down_revision = None
branch_labels = ("inventory",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_category",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["inventory_category.id"],
            name=op.f("fk_inventory_category_parent_id_inventory_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_category")),
    )
    op.create_index(
        op.f("ix_inventory_category_parent_id"), "inventory_category", ["parent_id"], unique=False
    )
    op.create_table(
        "inventory_warehouse",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_warehouse")),
        sa.UniqueConstraint("code", name=op.f("uq_inventory_warehouse_code")),
    )
    op.create_table(
        "inventory_count",
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("snapshot_at", AwareDateTime(), nullable=True),
        sa.Column("posted_at", AwareDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_count_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_count")),
    )
    op.create_table(
        "inventory_location",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_location_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_location")),
        sa.UniqueConstraint("code", name=op.f("uq_inventory_location_code")),
    )
    op.create_index(
        op.f("ix_inventory_location_warehouse_id"),
        "inventory_location",
        ["warehouse_id"],
        unique=False,
    )
    op.create_table(
        "inventory_product",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("list_price", ExactNumeric(18, 4), nullable=False),
        sa.Column("cost", ExactNumeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("weight_kg", ExactNumeric(18, 4), nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["inventory_category.id"],
            name=op.f("fk_inventory_product_category_id_inventory_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_product")),
        sa.UniqueConstraint("sku", name=op.f("uq_inventory_product_sku")),
    )
    op.create_index(
        op.f("ix_inventory_product_barcode"), "inventory_product", ["barcode"], unique=False
    )
    op.create_index(
        op.f("ix_inventory_product_category_id"), "inventory_product", ["category_id"], unique=False
    )
    op.create_table(
        "inventory_transfer",
        sa.Column("from_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("to_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("shipped_at", AwareDateTime(), nullable=True),
        sa.Column("received_at", AwareDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_transfer_from_warehouse_id_inventory_warehouse"),
        ),
        sa.ForeignKeyConstraint(
            ["to_warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_transfer_to_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_transfer")),
    )
    op.create_table(
        "inventory_balance",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["inventory_location.id"],
            name=op.f("fk_inventory_balance_location_id_inventory_location"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_balance_product_id_inventory_product"),
        ),
        sa.PrimaryKeyConstraint("product_id", "location_id", name=op.f("pk_inventory_balance")),
    )
    op.create_table(
        "inventory_count_line",
        sa.Column("count_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("expected", ExactNumeric(18, 4), nullable=True),
        sa.Column("counted", ExactNumeric(18, 4), nullable=True),
        sa.Column("variance", ExactNumeric(18, 4), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["inventory_count.id"],
            name=op.f("fk_inventory_count_line_count_id_inventory_count"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_count_line_product_id_inventory_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_count_line")),
        sa.UniqueConstraint(
            "count_id", "product_id", name=op.f("uq_inventory_count_line_count_id_product_id")
        ),
    )
    op.create_index(
        op.f("ix_inventory_count_line_count_id"), "inventory_count_line", ["count_id"], unique=False
    )
    op.create_table(
        "inventory_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("from_location_id", sa.Integer(), nullable=False),
        sa.Column("to_location_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("unit_cost", ExactNumeric(18, 4), nullable=False),
        sa.Column("done_at", AwareDateTime(), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_inventory_move_positive_quantity")),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["inventory_location.id"],
            name=op.f("fk_inventory_move_from_location_id_inventory_location"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_move_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"],
            ["inventory_location.id"],
            name=op.f("fk_inventory_move_to_location_id_inventory_location"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_move")),
    )
    op.create_index(op.f("ix_inventory_move_done_at"), "inventory_move", ["done_at"], unique=False)
    op.create_index(op.f("ix_inventory_move_origin"), "inventory_move", ["origin"], unique=False)
    op.create_index(
        op.f("ix_inventory_move_product_id"), "inventory_move", ["product_id"], unique=False
    )
    op.create_table(
        "inventory_reservation",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("remaining", ExactNumeric(18, 4), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0", name=op.f("ck_inventory_reservation_remaining_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_reservation_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_reservation_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_reservation")),
    )
    op.create_index(
        op.f("ix_inventory_reservation_origin"), "inventory_reservation", ["origin"], unique=False
    )
    op.create_index(
        op.f("ix_inventory_reservation_product_id"),
        "inventory_reservation",
        ["product_id"],
        unique=False,
    )
    op.create_table(
        "inventory_stock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", ExactNumeric(18, 4), nullable=False),
        sa.Column("reserved", ExactNumeric(18, 4), nullable=False),
        sa.Column("available", ExactNumeric(18, 4), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.CheckConstraint(
            "available >= 0", name=op.f("ck_inventory_stock_available_not_negative")
        ),
        sa.CheckConstraint(
            "on_hand = reserved + available", name=op.f("ck_inventory_stock_on_hand_is_sum")
        ),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_inventory_stock_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_stock_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_stock_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_stock")),
        sa.UniqueConstraint(
            "product_id", "warehouse_id", name=op.f("uq_inventory_stock_product_id_warehouse_id")
        ),
    )
    op.create_index(
        op.f("ix_inventory_stock_warehouse_id"), "inventory_stock", ["warehouse_id"], unique=False
    )
    op.create_table(
        "inventory_stock_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("limit_quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("available", ExactNumeric(18, 4), nullable=False),
        sa.Column("raised_at", AwareDateTime(), nullable=False),
        sa.Column("cleared_at", AwareDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_stock_alert_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_stock_alert_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_stock_alert")),
    )
    op.create_index(
        op.f("ix_inventory_stock_alert_cleared_at"),
        "inventory_stock_alert",
        ["cleared_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_inventory_stock_alert_product_id"),
        "inventory_stock_alert",
        ["product_id"],
        unique=False,
    )
    op.create_table(
        "inventory_stock_limit",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("minimum", ExactNumeric(18, 4), nullable=True),
        sa.Column("maximum", ExactNumeric(18, 4), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_stock_limit_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_stock_limit_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_stock_limit")),
        sa.UniqueConstraint(
            "product_id",
            "warehouse_id",
            name=op.f("uq_inventory_stock_limit_product_id_warehouse_id"),
        ),
    )
    op.create_table(
        "inventory_transfer_line",
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_inventory_transfer_line_positive_quantity")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_transfer_line_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["inventory_transfer.id"],
            name=op.f("fk_inventory_transfer_line_transfer_id_inventory_transfer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_transfer_line")),
    )
    op.create_index(
        op.f("ix_inventory_transfer_line_transfer_id"),
        "inventory_transfer_line",
        ["transfer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("inventory_transfer_line")
    op.drop_table("inventory_stock_limit")
    op.drop_table("inventory_stock_alert")
    op.drop_table("inventory_stock")
    op.drop_table("inventory_reservation")
    op.drop_table("inventory_move")
    op.drop_table("inventory_count_line")
    op.drop_table("inventory_balance")
    op.drop_table("inventory_transfer")
    op.drop_table("inventory_product")
    op.drop_table("inventory_location")
    op.drop_table("inventory_count")
    op.drop_table("inventory_warehouse")
    op.drop_table("inventory_category")
