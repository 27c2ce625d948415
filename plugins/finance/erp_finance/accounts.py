"""The chart of accounts: a tree of accounts, each of one type, and the company's books settings.

An account's ``type`` says where it shows in the statements (asset, liability, equity,
income, expense); its ``kind`` says what the books use it for (receivable, payable, bank,
cash, stock, cost of goods sold, tax, or other). Group accounts (``postable`` false) only
gather their children in the statements; lines post to postable accounts only.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import Base, NotFoundError, RecordMixin, ValidationError


class AccountType(enum.StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


class AccountKind(enum.StrEnum):
    RECEIVABLE = "receivable"
    PAYABLE = "payable"
    BANK = "bank"
    CASH = "cash"
    STOCK = "stock"
    COST_OF_GOODS_SOLD = "cogs"
    TAX = "tax"
    OTHER = "other"


DEBIT_NATURED = {AccountType.ASSET, AccountType.EXPENSE}
"""Types whose balance is shown as debit minus credit; the others as credit minus debit."""

PROFIT_AND_LOSS = {AccountType.INCOME, AccountType.EXPENSE}


class Account(RecordMixin, Base):
    __tablename__ = "finance_account"

    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    type: Mapped[str] = mapped_column(sa.String(16), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default=AccountKind.OTHER)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_account.id"),
                                                  index=True)
    postable: Mapped[bool] = mapped_column(default=True)
    reconcilable: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class AccountRole(enum.StrEnum):
    """What the documents that post themselves need an account for."""

    RECEIVABLE = "receivable"
    PAYABLE = "payable"
    SALES = "sales"
    SHIPPING_INCOME = "shipping_income"
    OUTPUT_TAX = "output_tax"
    INPUT_TAX = "input_tax"
    STOCK = "stock"
    GOODS_IN_TRANSIT = "goods_in_transit"
    COST_OF_GOODS_SOLD = "cogs"
    COST_DIFFERENCE = "cost_difference"
    STOCK_VARIANCE = "stock_variance"
    STOCK_WRITE_OFF = "stock_write_off"
    GOODS_RECEIVED_NOT_INVOICED = "grni"
    FREIGHT = "freight"
    FREIGHT_VARIANCE = "freight_variance"
    PAYMENT_FEES = "payment_fees"
    PROVIDER_CLEARING = "provider_clearing"
    PROVIDER_RESERVE = "provider_reserve"
    BANK = "bank"
    CASH = "cash"
    EXCHANGE_GAIN = "fx_gain"
    EXCHANGE_LOSS = "fx_loss"
    UNREALIZED_EXCHANGE = "fx_unrealized"
    ROUNDING = "rounding"
    RETAINED_EARNINGS = "retained_earnings"


class RoleAccount(Base):
    """Which account plays each role in the company's books (set by the chart template)."""

    __tablename__ = "finance_role_account"

    role: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_account.id"))


class TaxRounding(enum.StrEnum):
    PER_LINE = "per_line"
    PER_DOCUMENT = "per_document"


class Books(RecordMixin, Base):
    """The company's books: one row. ``currency`` is the functional currency; nothing
    posts on or before ``lock_date``."""

    __tablename__ = "finance_books"

    company_name: Mapped[str] = mapped_column(sa.String(200))
    currency: Mapped[str] = mapped_column(sa.String(3))
    template: Mapped[str] = mapped_column(sa.String(20))
    tax_rounding: Mapped[str] = mapped_column(sa.String(16), default=TaxRounding.PER_LINE)
    lock_date: Mapped[dt.date | None]


def books(session: Session) -> Books:
    """The books' row, read once per transaction (it is an object of the session, so a
    change made in the transaction is seen)."""
    found = session.info.get("finance.books")
    if found is None or found not in session:
        found = session.scalar(sa.select(Books).limit(1))
        if found is None:
            raise ValidationError("the books are not set up: run `erp finance setup"
                                  " --template generic` (or POST /api/v1/finance/setup)")
        session.info["finance.books"] = found
    return found


def role_accounts(session: Session) -> dict[str, int]:
    """Which account plays each role, read once per transaction (set by the chart)."""
    found = session.info.get("finance.roles")
    if not found:
        found = dict(session.execute(sa.select(RoleAccount.role, RoleAccount.account_id)).all())
        session.info["finance.roles"] = found
    return dict(found)


def role_account(session: Session, role: AccountRole) -> int:
    account = role_accounts(session).get(role)
    if account is None:
        raise ValidationError(f"no account plays the role {role.value!r}: set up the books")
    return account


def account_by_code(session: Session, code: str) -> Account:
    found = session.scalar(sa.select(Account).where(Account.code == code))
    if found is None:
        raise NotFoundError(f"account {code} does not exist")
    return found
