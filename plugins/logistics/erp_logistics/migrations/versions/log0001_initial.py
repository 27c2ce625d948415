"""shipments carriers tracking freight

Revision ID: log0001
Revises: None
Create Date: 2026-12-07T05:13:14+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "log0001"
down_revision = None
branch_labels = ("logistics",)
depends_on = None


def upgrade():
    op.create_table(
        "logistics_carrier_account",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("driver", sa.String(length=60), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rate_timeout_ms", sa.Integer(), nullable=False),
        sa.Column("pull_tracking", sa.Boolean(), nullable=False),
        sa.Column("ship_from", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_carrier_account")),
        sa.UniqueConstraint("name", name=op.f("uq_logistics_carrier_account_name")),
    )
    op.create_table(
        "logistics_carrier_invoice",
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("carrier_account_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=60), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("total", ExactNumeric(18, 4), nullable=False),
        sa.Column("quoted_total", ExactNumeric(18, 4), nullable=False),
        sa.Column("tolerance", ExactNumeric(18, 4), nullable=False),
        sa.Column("flagged_lines", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_account_id"],
            ["logistics_carrier_account.id"],
            name=op.f("fk_logistics_carrier_invoice_carrier_account_id_logistics_carrier_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_carrier_invoice")),
        sa.UniqueConstraint(
            "carrier_account_id",
            "number",
            name=op.f("uq_logistics_carrier_invoice_carrier_account_id_number"),
        ),
    )
    with op.batch_alter_table("logistics_carrier_invoice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_carrier_invoice_carrier_account_id"),
            ["carrier_account_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_carrier_invoice_state"), ["state"], unique=False
        )

    op.create_table(
        "logistics_carrier_service",
        sa.Column("carrier_account_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("promised_transit_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_account_id"],
            ["logistics_carrier_account.id"],
            name=op.f("fk_logistics_carrier_service_carrier_account_id_logistics_carrier_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_carrier_service")),
        sa.UniqueConstraint(
            "carrier_account_id",
            "code",
            name=op.f("uq_logistics_carrier_service_carrier_account_id_code"),
        ),
    )
    with op.batch_alter_table("logistics_carrier_service", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_carrier_service_carrier_account_id"),
            ["carrier_account_id"],
            unique=False,
        )

    op.create_table(
        "logistics_carrier_rule",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("carrier_account_id", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("min_weight_kg", ExactNumeric(18, 4), nullable=True),
        sa.Column("max_weight_kg", ExactNumeric(18, 4), nullable=True),
        sa.Column("max_price", ExactNumeric(18, 4), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_account_id"],
            ["logistics_carrier_account.id"],
            name=op.f("fk_logistics_carrier_rule_carrier_account_id_logistics_carrier_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["orders_channel.id"],
            name=op.f("fk_logistics_carrier_rule_channel_id_orders_channel"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_carrier_rule")),
    )
    op.create_table(
        "logistics_shipping_charge_policy",
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("flat_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("threshold", ExactNumeric(18, 4), nullable=True),
        sa.Column("margin", ExactNumeric(18, 4), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["orders_channel.id"],
            name=op.f("fk_logistics_shipping_charge_policy_channel_id_orders_channel"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_shipping_charge_policy")),
        sa.UniqueConstraint(
            "channel_id", name=op.f("uq_logistics_shipping_charge_policy_channel_id")
        ),
    )
    op.create_table(
        "logistics_order_shipping_charge",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("policy_kind", sa.String(length=12), nullable=False),
        sa.Column("cost", ExactNumeric(18, 4), nullable=True),
        sa.Column("charged", ExactNumeric(18, 4), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_logistics_order_shipping_charge_order_id_orders_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_logistics_order_shipping_charge")),
    )
    op.create_table(
        "logistics_shipment",
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("return_of_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("carrier_account_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=40), nullable=True),
        sa.Column("quoted_amount", ExactNumeric(18, 4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("promised_transit_days", sa.Integer(), nullable=True),
        sa.Column("rate_decision", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("ship_country", sa.String(length=2), nullable=True),
        sa.Column("tracking_status", sa.String(length=20), nullable=True),
        sa.Column("handed_over_at", AwareDateTime(), nullable=True),
        sa.Column("delivered_at", AwareDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_account_id"],
            ["logistics_carrier_account.id"],
            name=op.f("fk_logistics_shipment_carrier_account_id_logistics_carrier_account"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_logistics_shipment_order_id_orders_order"),
        ),
        sa.ForeignKeyConstraint(
            ["return_of_id"],
            ["logistics_shipment.id"],
            name=op.f("fk_logistics_shipment_return_of_id_logistics_shipment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_shipment")),
        sa.UniqueConstraint("number", name=op.f("uq_logistics_shipment_number")),
    )
    with op.batch_alter_table("logistics_shipment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_carrier_account_id"),
            ["carrier_account_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_logistics_shipment_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_tracking_status"), ["tracking_status"], unique=False
        )

    op.create_table(
        "logistics_carrier_invoice_line",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=60), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("billed_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("quoted_amount", ExactNumeric(18, 4), nullable=True),
        sa.Column("difference", ExactNumeric(18, 4), nullable=True),
        sa.Column("flag", sa.String(length=40), nullable=True),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["logistics_carrier_invoice.id"],
            name=op.f("fk_logistics_carrier_invoice_line_invoice_id_logistics_carrier_invoice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_logistics_carrier_invoice_line_order_id_orders_order"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipment.id"],
            name=op.f("fk_logistics_carrier_invoice_line_shipment_id_logistics_shipment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_carrier_invoice_line")),
    )
    with op.batch_alter_table("logistics_carrier_invoice_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_carrier_invoice_line_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_carrier_invoice_line_shipment_id"),
            ["shipment_id"],
            unique=False,
        )

    op.create_table(
        "logistics_package",
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("weight_kg", ExactNumeric(18, 4), nullable=False),
        sa.Column("length_cm", ExactNumeric(18, 4), nullable=True),
        sa.Column("width_cm", ExactNumeric(18, 4), nullable=True),
        sa.Column("height_cm", ExactNumeric(18, 4), nullable=True),
        sa.Column("contents", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("label_state", sa.String(length=12), nullable=False),
        sa.Column("purchase_attempt", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=True),
        sa.Column("purchase_started_at", AwareDateTime(), nullable=True),
        sa.Column("tracking_number", sa.String(length=60), nullable=True),
        sa.Column("label_amount", ExactNumeric(18, 4), nullable=True),
        sa.Column("label_currency", sa.String(length=3), nullable=True),
        sa.Column("label_format", sa.String(length=8), nullable=True),
        sa.Column("label_data", sa.LargeBinary(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("tracking_status", sa.String(length=20), nullable=True),
        sa.Column("tracking_at", AwareDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipment.id"],
            name=op.f("fk_logistics_package_shipment_id_logistics_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_package")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_logistics_package_idempotency_key")),
    )
    with op.batch_alter_table("logistics_package", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_package_shipment_id"), ["shipment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_package_tracking_number"), ["tracking_number"], unique=False
        )

    op.create_table(
        "logistics_shipment_line",
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("hs_code", sa.String(length=12), nullable=True),
        sa.Column("origin_country", sa.String(length=2), nullable=True),
        sa.Column("customs_value", ExactNumeric(18, 4), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_logistics_shipment_line_positive_quantity")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["orders_order_line.id"],
            name=op.f("fk_logistics_shipment_line_order_line_id_orders_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipment.id"],
            name=op.f("fk_logistics_shipment_line_shipment_id_logistics_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_shipment_line")),
    )
    with op.batch_alter_table("logistics_shipment_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_line_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_line_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "logistics_tracking_event",
        sa.Column("carrier_account_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("tracking_number", sa.String(length=60), nullable=False),
        sa.Column("event_key", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", AwareDateTime(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("raw", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_account_id"],
            ["logistics_carrier_account.id"],
            name=op.f("fk_logistics_tracking_event_carrier_account_id_logistics_carrier_account"),
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["logistics_package.id"],
            name=op.f("fk_logistics_tracking_event_package_id_logistics_package"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipment.id"],
            name=op.f("fk_logistics_tracking_event_shipment_id_logistics_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_tracking_event")),
        sa.UniqueConstraint(
            "carrier_account_id",
            "event_key",
            name=op.f("uq_logistics_tracking_event_carrier_account_id_event_key"),
        ),
    )
    with op.batch_alter_table("logistics_tracking_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_tracking_event_shipment_id"), ["shipment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_tracking_event_tracking_number"),
            ["tracking_number"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("logistics_tracking_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_tracking_event_tracking_number"))
        batch_op.drop_index(batch_op.f("ix_logistics_tracking_event_shipment_id"))

    op.drop_table("logistics_tracking_event")
    with op.batch_alter_table("logistics_shipment_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_line_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_line_order_line_id"))

    op.drop_table("logistics_shipment_line")
    with op.batch_alter_table("logistics_package", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_package_tracking_number"))
        batch_op.drop_index(batch_op.f("ix_logistics_package_shipment_id"))

    op.drop_table("logistics_package")
    with op.batch_alter_table("logistics_carrier_invoice_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_carrier_invoice_line_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_carrier_invoice_line_invoice_id"))

    op.drop_table("logistics_carrier_invoice_line")
    with op.batch_alter_table("logistics_shipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_tracking_status"))
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_state"))
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_order_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_carrier_account_id"))

    op.drop_table("logistics_shipment")
    op.drop_table("logistics_order_shipping_charge")
    op.drop_table("logistics_shipping_charge_policy")
    op.drop_table("logistics_carrier_rule")
    with op.batch_alter_table("logistics_carrier_service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_carrier_service_carrier_account_id"))

    op.drop_table("logistics_carrier_service")
    with op.batch_alter_table("logistics_carrier_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_carrier_invoice_state"))
        batch_op.drop_index(batch_op.f("ix_logistics_carrier_invoice_carrier_account_id"))

    op.drop_table("logistics_carrier_invoice")
    op.drop_table("logistics_carrier_account")
