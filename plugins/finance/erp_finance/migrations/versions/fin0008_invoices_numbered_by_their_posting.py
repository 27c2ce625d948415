"""finance: an invoice is written before its entry is posted, and numbered by the posting

The invoice and its lines go in before the statement that takes the journal's number,
which then writes the entry's name and id to the invoice (``ledger.Document``): the
journal's sequence is held for that statement and the commit only. The number and the
entry are therefore empty for a moment inside the transaction; PostgreSQL checks at
commit that no invoice is left without them.

Revision ID: fin0008
Revises: fin0007
Create Date: 2026-12-07T12:50:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "fin0008"
down_revision = "fin0007"
branch_labels = None
depends_on = None

POSTGRESQL_GUARDS = [
    """CREATE FUNCTION finance_invoice_booked() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM finance_invoice WHERE id = NEW.id
                 AND (number IS NULL OR entry_id IS NULL)) THEN
        RAISE EXCEPTION 'finance invoice % has no posted entry', NEW.id
          USING ERRCODE = 'not_null_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER finance_invoice_booked AFTER INSERT ON finance_invoice
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance_invoice_booked()""",
]


def upgrade():
    with op.batch_alter_table("finance_invoice", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.String(length=40), nullable=True)
        batch_op.alter_column("entry_id", existing_type=sa.Integer(), nullable=True)
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_GUARDS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER finance_invoice_booked ON finance_invoice")
        op.execute("DROP FUNCTION finance_invoice_booked()")
    with op.batch_alter_table("finance_invoice", schema=None) as batch_op:
        batch_op.alter_column("entry_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("number", existing_type=sa.String(length=40), nullable=False)
