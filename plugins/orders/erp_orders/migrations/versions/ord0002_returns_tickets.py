"""Orders: return requests and their lines, after-sales tickets and their messages.

Revision ID: ord0002
Revises: ord0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "ord0002"
down_revision = "ord0001"
branch_labels = None
depends_on = None


def _record_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "orders_return_request",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("refund_amount", ExactNumeric(18, 4), nullable=True),
        sa.Column("refund_tax", ExactNumeric(18, 4), nullable=True),
        sa.Column("replacement_order_id", sa.Integer(), nullable=True),
        *_record_columns(),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_orders_return_request_order_id_orders_order"),
        ),
        sa.ForeignKeyConstraint(
            ["replacement_order_id"],
            ["orders_order.id"],
            name=op.f("fk_orders_return_request_replacement_order_id_orders_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_return_request")),
    )
    op.create_index(
        op.f("ix_orders_return_request_order_id"), "orders_return_request", ["order_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_orders_return_request_state"), "orders_return_request", ["state"], unique=False
    )
    op.create_table(
        "orders_return_line",
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("damaged", sa.Boolean(), nullable=False),
        sa.Column("refund_amount", ExactNumeric(18, 4), nullable=True),
        sa.Column("refund_tax", ExactNumeric(18, 4), nullable=True),
        *_record_columns(),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_return_line_positive_quantity")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["orders_order_line.id"],
            name=op.f("fk_orders_return_line_order_line_id_orders_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["orders_return_request.id"],
            name=op.f("fk_orders_return_line_return_id_orders_return_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_return_line")),
        sa.UniqueConstraint(
            "return_id",
            "order_line_id",
            name=op.f("uq_orders_return_line_return_id_order_line_id"),
        ),
    )
    op.create_index(
        op.f("ix_orders_return_line_order_line_id"), "orders_return_line", ["order_line_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_orders_return_line_return_id"), "orders_return_line", ["return_id"],
        unique=False,
    )
    op.create_table(
        "orders_ticket",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        *_record_columns(),
        sa.CheckConstraint(
            "satisfaction BETWEEN 1 AND 5", name=op.f("ck_orders_ticket_satisfaction_1_to_5")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_orders_ticket_order_id_orders_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_ticket")),
    )
    op.create_index(
        op.f("ix_orders_ticket_order_id"), "orders_ticket", ["order_id"], unique=False
    )
    op.create_index(op.f("ix_orders_ticket_state"), "orders_ticket", ["state"], unique=False)
    op.create_table(
        "orders_ticket_message",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("from_customer", sa.Boolean(), nullable=False),
        *_record_columns(),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["orders_ticket.id"],
            name=op.f("fk_orders_ticket_message_ticket_id_orders_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_ticket_message")),
    )
    op.create_index(
        op.f("ix_orders_ticket_message_ticket_id"), "orders_ticket_message", ["ticket_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("orders_ticket_message")
    op.drop_table("orders_ticket")
    op.drop_table("orders_return_line")
    op.drop_table("orders_return_request")
