"""Reading the books in tests: balances by account code and role."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from erp_finance.accounts import Account, AccountKind
from erp_finance.ledger import EntryLine


def balance(session, code: str, **dimensions) -> Decimal:
    """Debit minus credit of an account (optionally on lines with these dimensions)."""
    account = session.scalar(sa.select(Account.id).where(Account.code == code))
    conditions = [getattr(EntryLine, name) == value for name, value in dimensions.items()]
    debit, credit = session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(EntryLine.debit), 0),
        sa.func.coalesce(sa.func.sum(EntryLine.credit), 0)).where(
        EntryLine.account_id == account, *conditions)).one()
    return Decimal(debit) - Decimal(credit)


def stock_in_the_books(session) -> Decimal:
    debit, credit = session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(EntryLine.debit), 0),
        sa.func.coalesce(sa.func.sum(EntryLine.credit), 0))
        .join(Account, Account.id == EntryLine.account_id)
        .where(Account.kind == AccountKind.STOCK)).one()
    return Decimal(debit) - Decimal(credit)
