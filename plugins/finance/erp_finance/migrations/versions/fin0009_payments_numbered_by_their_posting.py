"""finance: a payment is written before its entry is posted, and numbered by the posting

As invoices are (fin0008): the payment's row goes in, and is matched with the invoice
it pays, before the statement that takes the bank journal's number, which then writes
the entry's name and id to the payment (``ledger.Document``), so the journal's sequence
is held for that statement and the commit only. PostgreSQL checks at commit that no
payment is left without its number and entry.

Revision ID: fin0009
Revises: fin0008
Create Date: 2026-12-07T13:50:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "fin0009"
down_revision = "fin0008"
branch_labels = None
depends_on = None

POSTGRESQL_GUARDS = [
    """CREATE FUNCTION finance_payment_booked() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM finance_payment WHERE id = NEW.id
                 AND (number IS NULL OR entry_id IS NULL)) THEN
        RAISE EXCEPTION 'finance payment % has no posted entry', NEW.id
          USING ERRCODE = 'not_null_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER finance_payment_booked AFTER INSERT ON finance_payment
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance_payment_booked()""",
]


def upgrade():
    with op.batch_alter_table("finance_payment", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.String(length=40), nullable=True)
        batch_op.alter_column("entry_id", existing_type=sa.Integer(), nullable=True)
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_GUARDS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER finance_payment_booked ON finance_payment")
        op.execute("DROP FUNCTION finance_payment_booked()")
    with op.batch_alter_table("finance_payment", schema=None) as batch_op:
        batch_op.alter_column("entry_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("number", existing_type=sa.String(length=40), nullable=False)
