"""Orders: what the pricing hook gives, stored on orders and lines.

``orders_order`` gets ``shipping_discount``, ``order_discount`` (the order-level part of
the line discounts) and ``coupon_codes``; ``orders_order_line`` gets
``promotion_discount`` and ``gift`` (a line the pricing added at a price of zero).
Existing rows get zero and false.

Revision ID: ord0005
Revises: ord0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_sdk import ExactNumeric

revision = "ord0005"
down_revision = "ord0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders_order") as batch:
        batch.add_column(sa.Column("shipping_discount", ExactNumeric(18, 4), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("order_discount", ExactNumeric(18, 4), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("coupon_codes", sa.JSON(), nullable=True))
    with op.batch_alter_table("orders_order_line") as batch:
        batch.add_column(sa.Column("promotion_discount", ExactNumeric(18, 4), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("gift", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("orders_order_line") as batch:
        batch.drop_column("gift")
        batch.drop_column("promotion_discount")
    with op.batch_alter_table("orders_order") as batch:
        batch.drop_column("coupon_codes")
        batch.drop_column("order_discount")
        batch.drop_column("shipping_discount")
