"""payables

Revision ID: fin0005
Revises: fin0004
Create Date: 2026-12-07T10:16:07+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "fin0005"
down_revision = "fin0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "finance_payable",
        sa.Column("origin", sa.String(length=80), nullable=False),
        sa.Column("number", sa.String(length=120), nullable=False),
        sa.Column("creditor", sa.String(length=120), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", ExactNumeric(20, 10), nullable=False),
        sa.Column("total", ExactNumeric(18, 4), nullable=False),
        sa.Column("residual", ExactNumeric(18, 4), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.CheckConstraint(
            "residual <= total", name=op.f("ck_finance_payable_residual_within_total")
        ),
        sa.CheckConstraint("residual >= 0", name=op.f("ck_finance_payable_residual_not_negative")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["finance_entry.id"],
            name=op.f("fk_finance_payable_entry_id_finance_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payable")),
        sa.UniqueConstraint("origin", name=op.f("uq_finance_payable_origin")),
    )
    with op.batch_alter_table("finance_payable", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finance_payable_creditor"), ["creditor"], unique=False)
        batch_op.create_index(batch_op.f("ix_finance_payable_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_finance_payable_number"), ["number"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_finance_payable_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "finance_payable_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payable_id", sa.Integer(), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("rate", ExactNumeric(20, 10), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_finance_payable_payment_positive_amount")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["finance_entry.id"],
            name=op.f("fk_finance_payable_payment_entry_id_finance_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["payable_id"],
            ["finance_payable.id"],
            name=op.f("fk_finance_payable_payment_payable_id_finance_payable"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payable_payment")),
    )
    with op.batch_alter_table("finance_payable_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_payable_payment_payable_id"), ["payable_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("finance_payable_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_payable_payment_payable_id"))

    op.drop_table("finance_payable_payment")
    with op.batch_alter_table("finance_payable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_payable_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_finance_payable_number"))
        batch_op.drop_index(batch_op.f("ix_finance_payable_due_date"))
        batch_op.drop_index(batch_op.f("ix_finance_payable_creditor"))

    op.drop_table("finance_payable")
