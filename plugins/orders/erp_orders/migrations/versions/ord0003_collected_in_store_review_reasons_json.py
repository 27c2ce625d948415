"""Orders: channels whose goods are collected in store, and review reasons stored as JSON.

``orders_channel.collected_in_store`` is new; existing channels of kind ``store`` get
``true``, so their orders keep confirming without a shipping address. The text column
``orders_order.review_reasons`` (JSON written as text) becomes a JSON column holding the
same arrays: PostgreSQL converts it in place, SQLite (which cannot change a column's
type) copies it into a new JSON column that takes the old one's name.

Revision ID: ord0003
Revises: ord0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ord0003"
down_revision = "ord0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders_channel", sa.Column("collected_in_store", sa.Boolean(),
                                              server_default=sa.false(), nullable=False))
    op.execute("UPDATE orders_channel SET collected_in_store = true WHERE kind = 'store'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE orders_order ALTER COLUMN review_reasons TYPE JSON"
                   " USING review_reasons::json")
        return
    # No table rebuild on SQLite: dropping orders_order there would cascade to its lines.
    op.add_column("orders_order", sa.Column("review_reasons_json", sa.JSON(), nullable=True))
    op.execute("UPDATE orders_order SET review_reasons_json = review_reasons")
    op.execute("ALTER TABLE orders_order DROP COLUMN review_reasons")
    op.execute("ALTER TABLE orders_order RENAME COLUMN review_reasons_json TO review_reasons")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE orders_order ALTER COLUMN review_reasons TYPE TEXT"
                   " USING review_reasons::text")
    else:
        op.add_column("orders_order", sa.Column("review_reasons_text", sa.Text(),
                                                nullable=True))
        op.execute("UPDATE orders_order SET review_reasons_text = review_reasons")
        op.execute("ALTER TABLE orders_order DROP COLUMN review_reasons")
        op.execute("ALTER TABLE orders_order RENAME COLUMN review_reasons_text TO"
                   " review_reasons")
    op.drop_column("orders_channel", "collected_in_store")
