"""finance: the books (chart, periods, journals, entries, documents, payments), and the
database's own guards on posted entries

Revision ID: fin0001
Revises: None
Create Date: 2026-12-07T05:13:05+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "fin0001"
down_revision = None
branch_labels = ("finance",)
depends_on = None


POSTGRESQL_GUARDS = [
    # A posted entry balances, in the functional currency and in its transaction currency:
    # checked at commit, once every line of the entry is in.
    """CREATE FUNCTION finance_entry_balances() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE debits numeric; credits numeric; amounts numeric;
    BEGIN
      SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0), coalesce(sum(amount_currency), 0)
        INTO debits, credits, amounts FROM finance_entry_line WHERE entry_id = NEW.entry_id;
      IF debits <> credits OR amounts <> 0 THEN
        RAISE EXCEPTION 'finance entry % does not balance: debits %, credits %, % in its currency',
          NEW.entry_id, debits, credits, amounts USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER finance_entry_line_balanced AFTER INSERT ON finance_entry_line
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance_entry_balances()""",
    # Posted entries and their lines never change: a correction is a reversal entry.
    """CREATE FUNCTION finance_posted_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'posted finance entries cannot change (%): post a reversal', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE TRIGGER finance_entry_line_final BEFORE UPDATE OR DELETE ON finance_entry_line
    FOR EACH ROW EXECUTE FUNCTION finance_posted_is_final()""",
    """CREATE TRIGGER finance_entry_final BEFORE UPDATE OR DELETE ON finance_entry
    FOR EACH ROW EXECUTE FUNCTION finance_posted_is_final()""",
]
SQLITE_GUARDS = [
    f"""CREATE TRIGGER {table}_final_{action.lower()} BEFORE {action} ON {table}
    BEGIN SELECT RAISE(ABORT, 'posted finance entries cannot change: post a reversal'); END"""
    for table in ("finance_entry", "finance_entry_line") for action in ("UPDATE", "DELETE")
]


def _guards() -> list[str]:
    return POSTGRESQL_GUARDS if op.get_bind().dialect.name == "postgresql" else SQLITE_GUARDS


def upgrade():
    op.create_table(
        "finance_account",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("postable", sa.Boolean(), nullable=False),
        sa.Column("reconcilable", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_account_parent_id_finance_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_account")),
        sa.UniqueConstraint("code", name=op.f("uq_finance_account_code")),
    )
    with op.batch_alter_table("finance_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_account_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_finance_account_type"), ["type"], unique=False)

    op.create_table(
        "finance_books",
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("template", sa.String(length=20), nullable=False),
        sa.Column("tax_rounding", sa.String(length=16), nullable=False),
        sa.Column("lock_date", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_books")),
    )
    op.create_table(
        "finance_currency_rate",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rate", ExactNumeric(20, 10), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("currency", "day", name=op.f("pk_finance_currency_rate")),
    )
    op.create_table(
        "finance_fiscal_year",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closing_entry_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_fiscal_year")),
        sa.UniqueConstraint("name", name=op.f("uq_finance_fiscal_year_name")),
        sa.UniqueConstraint("start_date", name=op.f("uq_finance_fiscal_year_start_date")),
    )
    op.create_table(
        "finance_journal",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("default_account_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["default_account_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_journal_default_account_id_finance_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_journal")),
        sa.UniqueConstraint("code", name=op.f("uq_finance_journal_code")),
    )
    op.create_table(
        "finance_period",
        sa.Column("fiscal_year_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fiscal_year_id"],
            ["finance_fiscal_year.id"],
            name=op.f("fk_finance_period_fiscal_year_id_finance_fiscal_year"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_period")),
        sa.UniqueConstraint(
            "fiscal_year_id", "start_date", name=op.f("uq_finance_period_fiscal_year_id_start_date")
        ),
    )
    with op.batch_alter_table("finance_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_period_fiscal_year_id"), ["fiscal_year_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_finance_period_start_date"), ["start_date"], unique=False
        )

    op.create_table(
        "finance_role_account",
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_role_account_account_id_finance_account"),
        ),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_finance_role_account")),
    )
    op.create_table(
        "finance_tax_rule",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("rate", ExactNumeric(18, 4), nullable=False),
        sa.Column("price_included", sa.Boolean(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_tax_rule_account_id_finance_account"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["inventory_category.id"],
            name=op.f("fk_finance_tax_rule_category_id_inventory_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_tax_rule")),
    )
    op.create_table(
        "finance_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=True),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("reversal_of_id", sa.Integer(), nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("posted_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fiscal_year_id"],
            ["finance_fiscal_year.id"],
            name=op.f("fk_finance_entry_fiscal_year_id_finance_fiscal_year"),
        ),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["finance_journal.id"],
            name=op.f("fk_finance_entry_journal_id_finance_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["finance_period.id"],
            name=op.f("fk_finance_entry_period_id_finance_period"),
        ),
        sa.ForeignKeyConstraint(
            ["reversal_of_id"],
            ["finance_entry.id"],
            name=op.f("fk_finance_entry_reversal_of_id_finance_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_entry")),
        sa.UniqueConstraint(
            "journal_id",
            "fiscal_year_id",
            "number",
            name=op.f("uq_finance_entry_journal_id_fiscal_year_id_number"),
        ),
        sa.UniqueConstraint("name", name=op.f("uq_finance_entry_name")),
        sa.UniqueConstraint("reversal_of_id", name=op.f("uq_finance_entry_reversal_of_id")),
    )
    with op.batch_alter_table("finance_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finance_entry_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_finance_entry_origin"), ["origin"], unique=False)
        batch_op.create_index(batch_op.f("ix_finance_entry_period_id"), ["period_id"], unique=False)

    op.create_table(
        "finance_invoice_policy",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("invoice_on", sa.String(length=16), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["orders_channel.id"],
            name=op.f("fk_finance_invoice_policy_channel_id_orders_channel"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_invoice_policy")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_finance_invoice_policy_channel_id")),
    )
    op.create_table(
        "finance_journal_sequence",
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year_id", sa.Integer(), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["fiscal_year_id"],
            ["finance_fiscal_year.id"],
            name=op.f("fk_finance_journal_sequence_fiscal_year_id_finance_fiscal_year"),
        ),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["finance_journal.id"],
            name=op.f("fk_finance_journal_sequence_journal_id_finance_journal"),
        ),
        sa.PrimaryKeyConstraint(
            "journal_id", "fiscal_year_id", name=op.f("pk_finance_journal_sequence")
        ),
    )
    op.create_table(
        "finance_period_balance",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("debit", ExactNumeric(18, 4), nullable=False),
        sa.Column("credit", ExactNumeric(18, 4), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_period_balance_account_id_finance_account"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["finance_period.id"],
            name=op.f("fk_finance_period_balance_period_id_finance_period"),
        ),
        sa.PrimaryKeyConstraint("account_id", "period_id", name=op.f("pk_finance_period_balance")),
    )
    op.create_table(
        "finance_entry_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("debit", ExactNumeric(18, 4), nullable=False),
        sa.Column("credit", ExactNumeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_currency", ExactNumeric(18, 4), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "debit = 0 OR credit = 0", name=op.f("ck_finance_entry_line_debit_or_credit")
        ),
        sa.CheckConstraint(
            "debit >= 0 AND credit >= 0", name=op.f("ck_finance_entry_line_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_entry_line_account_id_finance_account"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["finance_entry.id"],
            name=op.f("fk_finance_entry_line_entry_id_finance_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["finance_period.id"],
            name=op.f("fk_finance_entry_line_period_id_finance_period"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_entry_line")),
    )
    with op.batch_alter_table("finance_entry_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_finance_entry_line_account_date", ["account_id", "date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_finance_entry_line_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_finance_entry_line_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_finance_entry_line_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "finance_payment",
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", ExactNumeric(20, 10), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("provider", sa.String(length=60), nullable=True),
        sa.Column("provider_reference", sa.String(length=120), nullable=True),
        sa.Column("unmatched", ExactNumeric(18, 4), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.CheckConstraint(
            "unmatched >= 0", name=op.f("ck_finance_payment_unmatched_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_payment_account_id_finance_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customer.id"],
            name=op.f("fk_finance_payment_customer_id_crm_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["finance_entry.id"],
            name=op.f("fk_finance_payment_entry_id_finance_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payment")),
        sa.UniqueConstraint("number", name=op.f("uq_finance_payment_number")),
        sa.UniqueConstraint(
            "provider",
            "provider_reference",
            name=op.f("uq_finance_payment_provider_provider_reference"),
        ),
    )
    with op.batch_alter_table("finance_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_payment_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_finance_payment_reference"), ["reference"], unique=False
        )

    op.create_table(
        "finance_stock_booking",
        sa.Column("move_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["move_id"],
            ["inventory_move.id"],
            name=op.f("fk_finance_stock_booking_move_id_inventory_move"),
        ),
        sa.PrimaryKeyConstraint("move_id", name=op.f("pk_finance_stock_booking")),
    )
    op.create_table(
        "finance_invoice",
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("refers_to_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", ExactNumeric(20, 10), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("untaxed", ExactNumeric(18, 4), nullable=False),
        sa.Column("tax", ExactNumeric(18, 4), nullable=False),
        sa.Column("total", ExactNumeric(18, 4), nullable=False),
        sa.Column("residual", ExactNumeric(18, 4), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("posted_at", AwareDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customer.id"],
            name=op.f("fk_finance_invoice_customer_id_crm_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["finance_entry.id"],
            name=op.f("fk_finance_invoice_entry_id_finance_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders_order.id"], name=op.f("fk_finance_invoice_order_id_orders_order")
        ),
        sa.ForeignKeyConstraint(
            ["refers_to_id"],
            ["finance_invoice.id"],
            name=op.f("fk_finance_invoice_refers_to_id_finance_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["orders_return_request.id"],
            name=op.f("fk_finance_invoice_return_id_orders_return_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_finance_invoice_number")),
    )
    with op.batch_alter_table("finance_invoice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_invoice_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_finance_invoice_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_finance_invoice_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_finance_invoice_state"), ["state"], unique=False)

    op.create_table(
        "finance_invoice_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("quantity", ExactNumeric(18, 4), nullable=False),
        sa.Column("tax_rate", ExactNumeric(18, 4), nullable=False),
        sa.Column("net", ExactNumeric(18, 4), nullable=False),
        sa.Column("tax", ExactNumeric(18, 4), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("tax_account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_invoice_line_account_id_finance_account"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["finance_invoice.id"],
            name=op.f("fk_finance_invoice_line_invoice_id_finance_invoice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["orders_order_line.id"],
            name=op.f("fk_finance_invoice_line_order_line_id_orders_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["tax_account_id"],
            ["finance_account.id"],
            name=op.f("fk_finance_invoice_line_tax_account_id_finance_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_invoice_line")),
    )
    with op.batch_alter_table("finance_invoice_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_invoice_line_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_finance_invoice_line_order_line_id"), ["order_line_id"], unique=False
        )

    op.create_table(
        "finance_payment_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("exchange_entry_id", sa.Integer(), nullable=True),
        sa.Column("matched_at", AwareDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_finance_payment_match_positive_amount")),
        sa.ForeignKeyConstraint(
            ["exchange_entry_id"],
            ["finance_entry.id"],
            name=op.f("fk_finance_payment_match_exchange_entry_id_finance_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["finance_invoice.id"],
            name=op.f("fk_finance_payment_match_invoice_id_finance_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["finance_payment.id"],
            name=op.f("fk_finance_payment_match_payment_id_finance_payment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payment_match")),
    )
    with op.batch_alter_table("finance_payment_match", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finance_payment_match_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_finance_payment_match_payment_id"), ["payment_id"], unique=False
        )

    for statement in _guards():
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER finance_entry_final ON finance_entry")
        op.execute("DROP TRIGGER finance_entry_line_final ON finance_entry_line")
        op.execute("DROP TRIGGER finance_entry_line_balanced ON finance_entry_line")
        op.execute("DROP FUNCTION finance_posted_is_final()")
        op.execute("DROP FUNCTION finance_entry_balances()")
    else:
        for table in ("finance_entry", "finance_entry_line"):
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_final_{action}")
    with op.batch_alter_table("finance_payment_match", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_payment_match_payment_id"))
        batch_op.drop_index(batch_op.f("ix_finance_payment_match_invoice_id"))

    op.drop_table("finance_payment_match")
    with op.batch_alter_table("finance_invoice_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_invoice_line_order_line_id"))
        batch_op.drop_index(batch_op.f("ix_finance_invoice_line_invoice_id"))

    op.drop_table("finance_invoice_line")
    with op.batch_alter_table("finance_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_invoice_state"))
        batch_op.drop_index(batch_op.f("ix_finance_invoice_order_id"))
        batch_op.drop_index(batch_op.f("ix_finance_invoice_date"))
        batch_op.drop_index(batch_op.f("ix_finance_invoice_customer_id"))

    op.drop_table("finance_invoice")
    op.drop_table("finance_stock_booking")
    with op.batch_alter_table("finance_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_payment_reference"))
        batch_op.drop_index(batch_op.f("ix_finance_payment_customer_id"))

    op.drop_table("finance_payment")
    with op.batch_alter_table("finance_entry_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_entry_line_partner_id"))
        batch_op.drop_index(batch_op.f("ix_finance_entry_line_order_id"))
        batch_op.drop_index(batch_op.f("ix_finance_entry_line_entry_id"))
        batch_op.drop_index("ix_finance_entry_line_account_date")

    op.drop_table("finance_entry_line")
    op.drop_table("finance_period_balance")
    op.drop_table("finance_journal_sequence")
    op.drop_table("finance_invoice_policy")
    with op.batch_alter_table("finance_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_entry_period_id"))
        batch_op.drop_index(batch_op.f("ix_finance_entry_origin"))
        batch_op.drop_index(batch_op.f("ix_finance_entry_date"))

    op.drop_table("finance_entry")
    op.drop_table("finance_tax_rule")
    op.drop_table("finance_role_account")
    with op.batch_alter_table("finance_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_period_start_date"))
        batch_op.drop_index(batch_op.f("ix_finance_period_fiscal_year_id"))

    op.drop_table("finance_period")
    op.drop_table("finance_journal")
    op.drop_table("finance_fiscal_year")
    op.drop_table("finance_currency_rate")
    op.drop_table("finance_books")
    with op.batch_alter_table("finance_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_account_type"))
        batch_op.drop_index(batch_op.f("ix_finance_account_parent_id"))

    op.drop_table("finance_account")
