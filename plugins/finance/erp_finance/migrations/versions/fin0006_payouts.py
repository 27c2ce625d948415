"""payouts

Revision ID: fin0006
Revises: fin0005
Create Date: 2026-12-07T10:29:02+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "fin0006"
down_revision = "fin0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "finance_payout",
        sa.Column("account", sa.String(length=60), nullable=False),
        sa.Column("payout_id", sa.String(length=120), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("sales", ExactNumeric(18, 4), nullable=False),
        sa.Column("refunds", ExactNumeric(18, 4), nullable=False),
        sa.Column("fees", ExactNumeric(18, 4), nullable=False),
        sa.Column("reserves", ExactNumeric(18, 4), nullable=False),
        sa.Column("adjustments", ExactNumeric(18, 4), nullable=False),
        sa.Column("unmatched", ExactNumeric(18, 4), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["finance_entry.id"],
            name=op.f("fk_finance_payout_entry_id_finance_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payout")),
        sa.UniqueConstraint(
            "account", "payout_id", name=op.f("uq_finance_payout_account_payout_id")
        ),
    )
    with op.batch_alter_table("finance_payout", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_payout_arrival_date"), ["arrival_date"], unique=False
        )

    op.create_table(
        "finance_payout_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("payment_reference", sa.String(length=120), nullable=True),
        sa.Column("order_reference", sa.String(length=120), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["finance_invoice.id"],
            name=op.f("fk_finance_payout_line_invoice_id_finance_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["finance_payment.id"],
            name=op.f("fk_finance_payout_line_payment_id_finance_payment"),
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"],
            ["finance_payout.id"],
            name=op.f("fk_finance_payout_line_payout_id_finance_payout"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payout_line")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_finance_payout_line_payment_id")),
    )
    with op.batch_alter_table("finance_payout_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_payout_line_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_finance_payout_line_payout_id"), ["payout_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("finance_payout_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_payout_line_payout_id"))
        batch_op.drop_index(batch_op.f("ix_finance_payout_line_invoice_id"))

    op.drop_table("finance_payout_line")
    with op.batch_alter_table("finance_payout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_payout_arrival_date"))

    op.drop_table("finance_payout")
