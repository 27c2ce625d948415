"""suppliers purchasing bills replenishment

Revision ID: sup0001
Revises: None
Create Date: 2026-12-07T05:10:47+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "sup0001"
down_revision = None
branch_labels = ("supply",)
depends_on = None


def upgrade():
    op.create_table(
        "supply_exchange_rate",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rate", ExactNumeric(18, 8), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_exchange_rate")),
        sa.UniqueConstraint(
            "currency", "rate_date", name=op.f("uq_supply_exchange_rate_currency_rate_date")
        ),
    )
    op.create_table(
        "supply_supplier",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("over_receipt_tolerance", ExactNumeric(18, 4), nullable=False),
        sa.Column("bill_quantity_tolerance", ExactNumeric(18, 4), nullable=False),
        sa.Column("bill_price_tolerance", ExactNumeric(18, 4), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_supplier")),
        sa.UniqueConstraint("code", name=op.f("uq_supply_supplier_code")),
    )
    op.create_table(
        "supply_purchase_order",
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("freight", ExactNumeric(18, 4), nullable=False),
        sa.Column("duty", ExactNumeric(18, 4), nullable=False),
        sa.Column("untaxed_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("sent_at", AwareDateTime(), nullable=True),
        sa.Column("confirmed_at", AwareDateTime(), nullable=True),
        sa.Column("backorder_of_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["backorder_of_id"],
            ["supply_purchase_order.id"],
            name=op.f("fk_supply_purchase_order_backorder_of_id_supply_purchase_order"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supply_supplier.id"],
            name=op.f("fk_supply_purchase_order_supplier_id_supply_supplier"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_supply_purchase_order_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_purchase_order")),
        sa.UniqueConstraint("number", name=op.f("uq_supply_purchase_order_number")),
    )
    with op.batch_alter_table("supply_purchase_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supply_purchase_order_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_supply_purchase_order_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supply_bill",
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("supplier_reference", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("untaxed_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("tax_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("total", ExactNumeric(18, 4), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("hold_reason", sa.String(length=2000), nullable=True),
        sa.Column("match_result", sa.JSON(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["supply_purchase_order.id"],
            name=op.f("fk_supply_bill_purchase_order_id_supply_purchase_order"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supply_supplier.id"],
            name=op.f("fk_supply_bill_supplier_id_supply_supplier"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_bill")),
        sa.UniqueConstraint("number", name=op.f("uq_supply_bill_number")),
    )
    with op.batch_alter_table("supply_bill", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_bill_purchase_order_id"), ["purchase_order_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_supply_bill_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_supply_bill_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supply_price_paid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("unit_price", ExactNumeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit_cost", ExactNumeric(18, 4), nullable=False),
        sa.Column("received_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_supply_price_paid_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["supply_purchase_order.id"],
            name=op.f("fk_supply_price_paid_purchase_order_id_supply_purchase_order"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supply_supplier.id"],
            name=op.f("fk_supply_price_paid_supplier_id_supply_supplier"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_price_paid")),
    )
    with op.batch_alter_table("supply_price_paid", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_price_paid_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_price_paid_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_price_paid_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supply_purchase_order_line",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("unit_price", ExactNumeric(18, 4), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("original_quantity", ExactNumeric(18, 4), nullable=True),
        sa.Column("original_expected_date", sa.Date(), nullable=True),
        sa.Column("received_quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("rejected_quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("cancelled_quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["supply_purchase_order.id"],
            name=op.f("fk_supply_purchase_order_line_order_id_supply_purchase_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_supply_purchase_order_line_product_id_inventory_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_purchase_order_line")),
    )
    with op.batch_alter_table("supply_purchase_order_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_purchase_order_line_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_purchase_order_line_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "supply_reorder_rule",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("minimum", ExactNumeric(18, 4), nullable=True),
        sa.Column("maximum", ExactNumeric(18, 4), nullable=True),
        sa.Column("velocity_days", sa.Integer(), nullable=False),
        sa.Column("review_days", sa.Integer(), nullable=False),
        sa.Column("service_factor", ExactNumeric(6, 3), nullable=False),
        sa.Column("max_lead_time_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_supply_reorder_rule_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_supply_reorder_rule_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_reorder_rule")),
        sa.UniqueConstraint(
            "product_id",
            "warehouse_id",
            name=op.f("uq_supply_reorder_rule_product_id_warehouse_id"),
        ),
    )
    with op.batch_alter_table("supply_reorder_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_reorder_rule_warehouse_id"), ["warehouse_id"], unique=False
        )

    op.create_table(
        "supply_shipping_notice",
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("expected_date", sa.Date(), nullable=False),
        sa.Column("carrier_tracking", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["supply_purchase_order.id"],
            name=op.f("fk_supply_shipping_notice_purchase_order_id_supply_purchase_order"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supply_supplier.id"],
            name=op.f("fk_supply_shipping_notice_supplier_id_supply_supplier"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_shipping_notice")),
    )
    with op.batch_alter_table("supply_shipping_notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_shipping_notice_purchase_order_id"),
            ["purchase_order_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_supply_shipping_notice_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supply_supplier_product",
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("minimum_order_quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("freight_per_unit", ExactNumeric(18, 4), nullable=False),
        sa.Column("duty_rate", ExactNumeric(18, 4), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_supply_supplier_product_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supply_supplier.id"],
            name=op.f("fk_supply_supplier_product_supplier_id_supply_supplier"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_supplier_product")),
    )
    with op.batch_alter_table("supply_supplier_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_supplier_product_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_supplier_product_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supply_bill_line",
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("unit_price", ExactNumeric(18, 4), nullable=False),
        sa.Column("tax_rate", ExactNumeric(18, 4), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("tax_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["supply_bill.id"],
            name=op.f("fk_supply_bill_line_bill_id_supply_bill"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["supply_purchase_order_line.id"],
            name=op.f("fk_supply_bill_line_order_line_id_supply_purchase_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_supply_bill_line_product_id_inventory_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_bill_line")),
    )
    with op.batch_alter_table("supply_bill_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supply_bill_line_bill_id"), ["bill_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_supply_bill_line_order_line_id"), ["order_line_id"], unique=False
        )

    op.create_table(
        "supply_price_break",
        sa.Column("supplier_product_id", sa.Integer(), nullable=False),
        sa.Column("minimum_quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("unit_price", ExactNumeric(18, 4), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_product_id"],
            ["supply_supplier_product.id"],
            name=op.f("fk_supply_price_break_supplier_product_id_supply_supplier_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_price_break")),
        sa.UniqueConstraint(
            "supplier_product_id",
            "minimum_quantity",
            name=op.f("uq_supply_price_break_supplier_product_id_minimum_quantity"),
        ),
    )
    with op.batch_alter_table("supply_price_break", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_price_break_supplier_product_id"),
            ["supplier_product_id"],
            unique=False,
        )

    op.create_table(
        "supply_receipt",
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("exchange_rate", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("received_at", AwareDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["supply_shipping_notice.id"],
            name=op.f("fk_supply_receipt_notice_id_supply_shipping_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["supply_purchase_order.id"],
            name=op.f("fk_supply_receipt_purchase_order_id_supply_purchase_order"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supply_supplier.id"],
            name=op.f("fk_supply_receipt_supplier_id_supply_supplier"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_supply_receipt_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_receipt")),
        sa.UniqueConstraint("number", name=op.f("uq_supply_receipt_number")),
    )
    with op.batch_alter_table("supply_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_receipt_purchase_order_id"), ["purchase_order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_receipt_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supply_shipping_notice_line",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["supply_shipping_notice.id"],
            name=op.f("fk_supply_shipping_notice_line_notice_id_supply_shipping_notice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["supply_purchase_order_line.id"],
            name=op.f("fk_supply_shipping_notice_line_order_line_id_supply_purchase_order_line"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_shipping_notice_line")),
    )
    with op.batch_alter_table("supply_shipping_notice_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_shipping_notice_line_notice_id"), ["notice_id"], unique=False
        )

    op.create_table(
        "supply_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("unit_price", ExactNumeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("landed_unit_cost", ExactNumeric(18, 4), nullable=False),
        sa.Column("velocity", ExactNumeric(18, 4), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("safety_stock", ExactNumeric(18, 4), nullable=False),
        sa.Column("reorder_point", ExactNumeric(18, 4), nullable=False),
        sa.Column("target", ExactNumeric(18, 4), nullable=False),
        sa.Column("on_hand", ExactNumeric(18, 4), nullable=False),
        sa.Column("reserved", ExactNumeric(18, 4), nullable=False),
        sa.Column("incoming", ExactNumeric(18, 4), nullable=False),
        sa.Column("position", ExactNumeric(18, 4), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("purchase_order_id", sa.Integer(), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_supply_suggestion_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["supply_purchase_order.id"],
            name=op.f("fk_supply_suggestion_purchase_order_id_supply_purchase_order"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["supply_reorder_rule.id"],
            name=op.f("fk_supply_suggestion_rule_id_supply_reorder_rule"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supply_supplier.id"],
            name=op.f("fk_supply_suggestion_supplier_id_supply_supplier"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_supply_suggestion_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_suggestion")),
    )
    with op.batch_alter_table("supply_suggestion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_suggestion_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_suggestion_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_supply_suggestion_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_supply_suggestion_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_supply_suggestion_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supply_receipt_line",
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("rejected_quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("unit_cost", ExactNumeric(18, 4), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("move_id", sa.Integer(), nullable=True),
        sa.Column("rejected_move_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["supply_purchase_order_line.id"],
            name=op.f("fk_supply_receipt_line_order_line_id_supply_purchase_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_supply_receipt_line_product_id_inventory_product"),
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["supply_receipt.id"],
            name=op.f("fk_supply_receipt_line_receipt_id_supply_receipt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_receipt_line")),
    )
    with op.batch_alter_table("supply_receipt_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_receipt_line_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_receipt_line_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_receipt_line_receipt_id"), ["receipt_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("supply_receipt_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_receipt_line_receipt_id"))
        batch_op.drop_index(batch_op.f("ix_supply_receipt_line_product_id"))
        batch_op.drop_index(batch_op.f("ix_supply_receipt_line_order_line_id"))

    op.drop_table("supply_receipt_line")
    with op.batch_alter_table("supply_suggestion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_suggestion_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supply_suggestion_state"))
        batch_op.drop_index(batch_op.f("ix_supply_suggestion_rule_id"))
        batch_op.drop_index(batch_op.f("ix_supply_suggestion_product_id"))
        batch_op.drop_index(batch_op.f("ix_supply_suggestion_created_at"))

    op.drop_table("supply_suggestion")
    with op.batch_alter_table("supply_shipping_notice_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_shipping_notice_line_notice_id"))

    op.drop_table("supply_shipping_notice_line")
    with op.batch_alter_table("supply_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_receipt_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supply_receipt_purchase_order_id"))

    op.drop_table("supply_receipt")
    with op.batch_alter_table("supply_price_break", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_price_break_supplier_product_id"))

    op.drop_table("supply_price_break")
    with op.batch_alter_table("supply_bill_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_bill_line_order_line_id"))
        batch_op.drop_index(batch_op.f("ix_supply_bill_line_bill_id"))

    op.drop_table("supply_bill_line")
    with op.batch_alter_table("supply_supplier_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_supplier_product_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supply_supplier_product_product_id"))

    op.drop_table("supply_supplier_product")
    with op.batch_alter_table("supply_shipping_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_shipping_notice_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supply_shipping_notice_purchase_order_id"))

    op.drop_table("supply_shipping_notice")
    with op.batch_alter_table("supply_reorder_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_reorder_rule_warehouse_id"))

    op.drop_table("supply_reorder_rule")
    with op.batch_alter_table("supply_purchase_order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_purchase_order_line_product_id"))
        batch_op.drop_index(batch_op.f("ix_supply_purchase_order_line_order_id"))

    op.drop_table("supply_purchase_order_line")
    with op.batch_alter_table("supply_price_paid", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_price_paid_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supply_price_paid_received_at"))
        batch_op.drop_index(batch_op.f("ix_supply_price_paid_product_id"))

    op.drop_table("supply_price_paid")
    with op.batch_alter_table("supply_bill", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_bill_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supply_bill_state"))
        batch_op.drop_index(batch_op.f("ix_supply_bill_purchase_order_id"))

    op.drop_table("supply_bill")
    with op.batch_alter_table("supply_purchase_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_purchase_order_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supply_purchase_order_state"))

    op.drop_table("supply_purchase_order")
    op.drop_table("supply_supplier")
    op.drop_table("supply_exchange_rate")
