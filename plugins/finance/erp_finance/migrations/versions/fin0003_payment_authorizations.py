"""payment authorizations

Revision ID: fin0003
Revises: fin0002
Create Date: 2026-12-07T06:10:36+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "fin0003"
down_revision = "fin0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "finance_payment_authorization",
        sa.Column("account", sa.String(length=60), nullable=False),
        sa.Column("provider_reference", sa.String(length=120), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["finance_invoice.id"],
            name=op.f("fk_finance_payment_authorization_invoice_id_finance_invoice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payment_authorization")),
        sa.UniqueConstraint(
            "account",
            "provider_reference",
            name=op.f("uq_finance_payment_authorization_account_provider_reference"),
        ),
    )
    with op.batch_alter_table("finance_payment_authorization", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_payment_authorization_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("finance_payment_authorization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_payment_authorization_invoice_id"))

    op.drop_table("finance_payment_authorization")
