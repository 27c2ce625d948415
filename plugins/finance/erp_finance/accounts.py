"""The chart of accounts: a tree of accounts, each of one type, and the company's books settings.

An account's ``type`` says where it shows in the statements (asset, liability, equity,
income, expense); its ``kind`` says what the books use it for (receivable, payable, bank,
cash, stock, cost of goods sold, tax, or other). Group accounts (``postable`` false) only
gather their children in the statements; lines post to postable accounts only.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import Base, NotFoundError, RecordMixin, ValidationError, cached


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
    change made in the transaction is seen). For a change to it; what every posting
    reads is ``book_settings``."""
    found = session.info.get("finance.books")
    if found is None or found not in session:
        found = session.scalar(sa.select(Books).limit(1))
        if found is None:
            raise ValidationError("the books are not set up: run `erp finance setup"
                                  " --template generic` (or POST /api/v1/finance/setup)")
        session.info["finance.books"] = found
    return found


@attrs.frozen
class BookSettings:
    """What documents read from the books on every posting."""

    id: int
    currency: str
    tax_rounding: str
    lock_date: dt.date | None


def book_settings(session: Session) -> BookSettings:
    """The books' settings, kept by the process until the books' row is written (see
    ``erp_sdk.cached``). The lock date may be a moment stale for another process's
    change: the posting statement checks it against the row itself."""

    def load() -> BookSettings:
        found = session.execute(sa.select(Books.id, Books.currency, Books.tax_rounding,
                                          Books.lock_date).limit(1)).first()
        if found is None:
            raise ValidationError("the books are not set up: run `erp finance setup"
                                  " --template generic` (or POST /api/v1/finance/setup)")
        return BookSettings(found.id, found.currency, found.tax_rounding, found.lock_date)

    return cached(session, "finance.book_settings", [Books.__tablename__], load)


def role_accounts(session: Session) -> dict[str, int]:
    """Which account plays each role (set by the chart), kept by the process until one
    is written."""
    found = cached(session, "finance.roles", [RoleAccount.__tablename__], lambda: tuple(
        session.execute(sa.select(RoleAccount.role, RoleAccount.account_id)).all()))
    return dict(found)


def role_account(session: Session, role: AccountRole) -> int:
    account = role_accounts(session).get(role)
    if account is None:
        raise ValidationError(f"no account plays the role {role.value!r}: set up the books")
    return account


_POSTABLE = sa.select(Account.id).where(Account.postable.is_(True), Account.active.is_(True))


def postable_accounts(session: Session) -> frozenset[int]:
    """The ids of the accounts lines may post to (postable and active), kept by the
    process until an account is written; a posting checks its own accounts against the
    rows themselves as well."""
    return cached(session, "finance.postable_accounts", [Account.__tablename__],
                  lambda: frozenset(session.scalars(_POSTABLE)))


def account_by_code(session: Session, code: str) -> Account:
    found = session.scalar(sa.select(Account).where(Account.code == code))
    if found is None:
        raise NotFoundError(f"account {code} does not exist")
    return found
