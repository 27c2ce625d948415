"""Journals: where entries are numbered and chained (sales, purchases, bank, cash, stock, general).

Each journal keeps one sequence per fiscal year (``JournalSequence``): the next number
and the hash of the last entry posted in it. The row is the point where concurrent
posters of one journal queue: taking a number is a conditional ``UPDATE`` of that row,
inside the posting transaction, so a number is used exactly when the entry commits
(no gap after a rollback, no duplicate under concurrency).
"""

from __future__ import annotations

import enum
import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_finance.periods import FiscalYear
from erp_sdk import Base, NotFoundError, RecordMixin


class JournalKind(enum.StrEnum):
    SALES = "sales"
    PURCHASES = "purchases"
    BANK = "bank"
    CASH = "cash"
    STOCK = "stock"
    GENERAL = "general"


class Journal(RecordMixin, Base):
    __tablename__ = "finance_journal"

    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(16))
    default_account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_account.id"))


class JournalSequence(Base):
    """Next number and chain head of one journal in one fiscal year."""

    __tablename__ = "finance_journal_sequence"

    journal_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_journal.id"),
                                            primary_key=True)
    fiscal_year_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_fiscal_year.id"),
                                                primary_key=True)
    next_number: Mapped[int] = mapped_column(default=1)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


def genesis_hash(journal_code: str, fiscal_year_name: str) -> str:
    """Where a journal's chain starts in a fiscal year: known to anyone who verifies."""
    return hashlib.sha256(f"erp-finance:{journal_code}:{fiscal_year_name}".encode()).hexdigest()


def ensure_sequences(session: Session) -> None:
    """Give every journal a sequence in every fiscal year (after either is created)."""
    existing = set(session.execute(sa.select(JournalSequence.journal_id,
                                             JournalSequence.fiscal_year_id)).all())
    journals = session.execute(sa.select(Journal.id, Journal.code)).all()
    years = session.execute(sa.select(FiscalYear.id, FiscalYear.name)).all()
    session.add_all(JournalSequence(journal_id=journal.id, fiscal_year_id=year.id,
                                    next_number=1, last_hash=genesis_hash(journal.code, year.name))
                    for journal in journals for year in years
                    if (journal.id, year.id) not in existing)
    session.flush()


def journal_by_code(session: Session, code: str) -> Journal:
    found = session.scalar(sa.select(Journal).where(Journal.code == code))
    if found is None:
        raise NotFoundError(f"journal {code} does not exist")
    return found
