"""Journal entries and their lines: the books themselves.

An entry exists only posted: it is written whole, balanced, numbered and chained in one
transaction, and never changes again (a correction is a reversal entry). The rules,
checked here for every database and again by PostgreSQL itself (see the migration's
triggers):

- every line is a debit or a credit in the functional currency, in cents, and an amount
  in the entry's transaction currency; the debits equal the credits, and the amounts in
  the transaction currency add up to zero. When converting foreign amounts line by line
  leaves the functional sums a few cents apart, a rounding line (transaction amount 0)
  takes the difference, and both sums are checked again after it;
- the date lies in an open period, after the lock date, and every line's account is
  postable and active: the process keeps the periods, the settings and the accounts
  (``erp_sdk.cached``) so that the usual posting reads none of them, and the statement
  that takes the number checks the period's row, the lock date and the accounts
  themselves, holding the period and the books' rows (``FOR SHARE``) until commit, so
  that a period closed (or a lock date moved) by another process a moment ago still
  refuses, and closing waits for the postings already under way;
- the number is the journal's next one in the fiscal year, taken in this transaction,
  by the last statement of the posting: the row of the document the entry books (an
  invoice or a payment, see ``Document``) is written before it and numbered by it, so
  the journal's sequence, where concurrent posters queue, is held for one statement and
  the commit. A transaction that posts several entries prepares them all
  (``prepare_entry``) and takes their numbers back to back at the end, always in the
  order of the journals (``post_prepared``), so two such transactions never deadlock;
- the hash covers the entry and the previous entry's hash in its journal and year;
- the per-period balance of every account touched moves by the entry's amounts, in the
  same transaction, so statements read a few rows per account instead of every line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_finance.accounts import (
    Account,
    AccountRole,
    Books,
    book_settings,
    postable_accounts,
    role_account,
)
from erp_finance.journals import Journal, JournalSequence, ensure_sequences
from erp_finance.money import CENT, ZERO
from erp_finance.periods import Period, PeriodState, open_period, posting_period
from erp_sdk import (
    Base,
    ConflictError,
    Money,
    Upsert,
    UtcDateTime,
    ValidationError,
    cached,
    insert_rows,
    utcnow,
)


class Entry(Base):
    __tablename__ = "finance_entry"
    __table_args__ = (sa.UniqueConstraint("journal_id", "fiscal_year_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_journal.id"))
    fiscal_year_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_fiscal_year.id"))
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_period.id"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    date: Mapped[dt.date] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    ref: Mapped[str | None] = mapped_column(sa.String(120))
    origin: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    reversal_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_entry.id"),
                                                       unique=True)
    previous_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    posted_at: Mapped[UtcDateTime]


class EntryLine(Base):
    __tablename__ = "finance_entry_line"
    __table_args__ = (
        sa.CheckConstraint("debit >= 0 AND credit >= 0", name="not_negative"),
        sa.CheckConstraint("debit = 0 OR credit = 0", name="debit_or_credit"),
        sa.Index("ix_finance_entry_line_account_date", "account_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_entry.id"), index=True)
    sequence: Mapped[int]
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_account.id"))
    date: Mapped[dt.date]
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_period.id"))
    debit: Mapped[Money]
    credit: Mapped[Money]
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount_currency: Mapped[Money]
    label: Mapped[str | None] = mapped_column(sa.String(200))
    partner_id: Mapped[int | None] = mapped_column(index=True)
    channel_id: Mapped[int | None]
    warehouse_id: Mapped[int | None]
    order_id: Mapped[int | None] = mapped_column(index=True)
    product_id: Mapped[int | None]


class PeriodBalance(Base):
    """Debits and credits of one account in one period, kept current by every posting."""

    __tablename__ = "finance_period_balance"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_account.id"),
                                            primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_period.id"),
                                           primary_key=True)
    debit: Mapped[Money]
    credit: Mapped[Money]


ANALYTIC_DIMENSIONS = ("channel_id", "warehouse_id", "order_id", "product_id")


@attrs.frozen
class LineDraft:
    """One line to post: a debit or a credit in the functional currency; ``amount`` in the
    entry's transaction currency when that differs (default: debit - credit)."""

    account_id: int
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    amount: Decimal | None = None
    label: str | None = None
    partner_id: int | None = None
    channel_id: int | None = None
    warehouse_id: int | None = None
    order_id: int | None = None
    product_id: int | None = None


@attrs.frozen
class EntryDraft:
    journal: str
    date: dt.date
    lines: Sequence[LineDraft]
    currency: str | None = None
    ref: str | None = None
    origin: str | None = None
    reversal_of_id: int | None = None


@attrs.frozen
class Document:
    """The row of the document an entry books (an invoice), written before the entry is
    posted without a number or an entry: the statement that takes the entry's number
    writes the entry's name to the row's ``number`` and its id to ``entry_id``."""

    table: sa.Table
    id: int


@attrs.frozen
class PostedEntry:
    id: int
    name: str
    number: int
    journal: str
    date: dt.date
    hash: str


def _amount(value: Decimal, field: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(f"{field} must be a finite decimal", {field: "not a decimal"})
    if value != value.quantize(CENT):
        raise ValidationError(f"{field} {value} has more decimals than cents",
                              {field: "at most 2 decimals"})
    return value.quantize(CENT)


def _lines(draft: EntryDraft, functional: str) -> list[dict[str, Any]]:
    foreign = draft.currency not in (None, functional)
    rows = []
    for index, line in enumerate(draft.lines):
        debit = _amount(line.debit, f"lines[{index}].debit")
        credit = _amount(line.credit, f"lines[{index}].credit")
        if debit < 0 or credit < 0 or (debit and credit):
            raise ValidationError(f"line {index}: a line is a debit or a credit, not negative",
                                  {f"lines[{index}]": "debit or credit"})
        if not foreign:
            amount = debit - credit
        elif line.amount is None:
            raise ValidationError(f"line {index} needs its amount in {draft.currency}",
                                  {f"lines[{index}].amount": "required"})
        else:
            amount = _amount(line.amount, f"lines[{index}].amount")
        if not debit and not credit and not amount and not foreign:
            raise ValidationError(f"line {index} is empty", {f"lines[{index}]": "empty"})
        rows.append({"sequence": index, "account_id": line.account_id, "debit": debit,
                     "credit": credit, "amount_currency": amount, "label": line.label,
                     "partner_id": line.partner_id, "channel_id": line.channel_id,
                     "warehouse_id": line.warehouse_id, "order_id": line.order_id,
                     "product_id": line.product_id})
    return rows


ROUNDING_TOLERANCE = Decimal("0.01")
"""The most a foreign line's conversion may leave over, per line, for a rounding line."""


def _balance(session: Session, rows: list[dict[str, Any]], foreign: bool) -> None:
    """Refuse an unbalanced entry, after adding a rounding line where conversion left
    cents over; both sums are checked again once the rounding line is in."""
    if not rows or len(rows) < 2:
        raise ValidationError("an entry needs at least two lines", {"lines": "too few"})
    difference = sum((row["debit"] - row["credit"] for row in rows), ZERO)
    if difference and foreign and abs(difference) <= ROUNDING_TOLERANCE * len(rows):
        rows.append({**rows[-1], "sequence": len(rows),
                     "account_id": role_account(session, AccountRole.ROUNDING),
                     "debit": -difference if difference < 0 else ZERO,
                     "credit": difference if difference > 0 else ZERO,
                     "amount_currency": ZERO, "label": "conversion rounding"})
    debits = sum((row["debit"] for row in rows), ZERO)
    credits = sum((row["credit"] for row in rows), ZERO)
    if debits != credits:
        raise ValidationError(f"the entry does not balance: debits {debits} and credits"
                              f" {credits}", {"lines": "unbalanced"})
    if sum((row["amount_currency"] for row in rows), ZERO) != 0:
        raise ValidationError("the entry does not balance in its transaction currency",
                              {"lines": "unbalanced in the transaction currency"})


_POSTABLE_AMONG = (sa.select(Account.id).where(
    Account.id.in_(sa.bindparam("ids", expanding=True)), Account.postable.is_(True),
    Account.active.is_(True)))

_TAKE_NUMBER = (sa.update(JournalSequence.__table__)
                .where(JournalSequence.journal_id == sa.bindparam("journal"),
                       JournalSequence.fiscal_year_id == sa.bindparam("year"),
                       # what the posting checked from the process's copies, as it is now
                       sa.exists().where(Period.id == sa.bindparam("period"),
                                         Period.state == PeriodState.OPEN),
                       ~sa.exists().where(Books.lock_date >= sa.bindparam("date")),
                       sa.select(sa.func.count()).where(
                           _POSTABLE_AMONG.whereclause).scalar_subquery()
                       == sa.bindparam("account_count"))
                .values(next_number=JournalSequence.next_number + 1)
                .returning(JournalSequence.next_number, JournalSequence.last_hash))
_SET_HEAD = (sa.update(JournalSequence.__table__)
             .where(JournalSequence.journal_id == sa.bindparam("journal"),
                    JournalSequence.fiscal_year_id == sa.bindparam("year"))
             .values(last_hash=sa.bindparam("head")))


def _upsert_balances(insert: Any) -> Any:
    table = PeriodBalance.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.account_id, table.c.period_id],
        set_={"debit": table.c.debit + statement.excluded.debit,
              "credit": table.c.credit + statement.excluded.credit})


_ADD_TO_BALANCES = Upsert(_upsert_balances)


def _money_text(value: Decimal) -> str:
    return f"{Decimal(value).quantize(CENT):f}"


def _lines_text(lines: Sequence[Any]) -> str:
    parts = []
    for line in lines:
        get = line.get if isinstance(line, dict) else line._mapping.get
        parts.append("|{}:{}:{}:{}:{}:{}:{}:{}:{}".format(
            get("account_id"), _money_text(get("debit")), _money_text(get("credit")),
            _money_text(get("amount_currency")), get("partner_id"), get("channel_id"),
            get("warehouse_id"), get("order_id"), get("product_id")))
    return "".join(parts)


def entry_hash(previous_hash: str, journal_code: str, name: str, date: dt.date, currency: str,
               lines: Sequence[Any]) -> str:
    """The hash of an entry: its identity, date, currency and every line's account,
    amounts, partner and dimensions, chained to the previous entry's hash. ``lines`` are
    mappings or rows with the line columns, in sequence order. (PostgreSQL computes the
    same text's SHA-256 in ``_POSTING_ON_POSTGRESQL``.)"""
    text = (f"{previous_hash}|{journal_code}|{name}|{date.isoformat()}|{currency}"
            f"{_lines_text(lines)}")
    return hashlib.sha256(text.encode()).hexdigest()


_NUMBER_TEXT = ("CASE WHEN {0} < 1000000 THEN lpad({0}::text, 6, '0') ELSE {0}::text END")
"""An entry's number as its name shows it (``f"{number:06d}"``), in SQL."""
_POSTING_ON_POSTGRESQL = (
    # The whole posting in one statement, so the journal's sequence row (where concurrent
    # posters queue) and the balances' rows are held for one round trip, not five: take
    # the number and chain the hash (the text ``entry_hash`` hashes), write the entry, its
    # lines and the balances. Nothing is written without the sequence row, or unless the
    # period's row is open, the books' lock date before the entry's and every account
    # postable and active, as the rows are now: both rows stay shared-locked until commit
    # so that no one closes the period or moves the lock date under a posting.
    "WITH allowed AS (SELECT p.id FROM finance_period AS p, finance_books AS b"
    " WHERE p.id = :period AND p.state = 'open' AND (b.lock_date IS NULL OR b.lock_date < :date)"
    " AND (SELECT count(*) FROM finance_account AS a WHERE a.id = ANY(CAST(:accounts AS"
    " integer[])) AND a.postable AND a.active) = :account_count FOR SHARE),"
    " taken AS (SELECT s.next_number, s.last_hash FROM finance_journal_sequence AS s, allowed"
    " WHERE s.journal_id = :journal AND s.fiscal_year_id = :year FOR NO KEY UPDATE OF s),"
    " advanced AS (UPDATE finance_journal_sequence AS s SET next_number = taken.next_number + 1,"
    " last_hash = encode(sha256(convert_to(taken.last_hash || :head || "
    f"{_NUMBER_TEXT.format('taken.next_number')}"
    " || :tail, 'UTF8')), 'hex') FROM taken"
    " WHERE s.journal_id = :journal AND s.fiscal_year_id = :year"
    " RETURNING taken.next_number AS number, taken.last_hash AS previous_hash,"
    " s.last_hash AS hash),"
    " entry AS (INSERT INTO finance_entry (journal_id, fiscal_year_id, period_id, number, name,"
    " date, currency, ref, origin, reversal_of_id, previous_hash, hash, posted_at)"
    f" SELECT :journal, :year, :period, number, :prefix || {_NUMBER_TEXT.format('number')},"
    " :date, :currency, :ref, :origin, :reversal, previous_hash, hash, :now FROM advanced"
    " RETURNING id, number, name, hash),"
    " added AS (INSERT INTO finance_entry_line (entry_id, sequence, account_id, date, period_id,"
    " debit, credit, currency, amount_currency, label, partner_id, channel_id, warehouse_id,"
    " order_id, product_id) SELECT entry.id, l.sequence, l.account_id, :date, :period,"
    " l.debit, l.credit, :currency, l.amount_currency, l.label, l.partner_id, l.channel_id,"
    " l.warehouse_id, l.order_id, l.product_id FROM entry, json_to_recordset(CAST(:lines AS"
    " json)) AS l(sequence integer, account_id integer, debit numeric, credit numeric,"
    " amount_currency numeric, label text, partner_id integer, channel_id integer,"
    " warehouse_id integer, order_id integer, product_id integer)),"
    " balances AS (INSERT INTO finance_period_balance (account_id, period_id, debit, credit)"
    " SELECT b.account_id, :period, b.debit, b.credit FROM entry, json_to_recordset(CAST("
    ":balances AS json)) AS b(account_id integer, debit numeric, credit numeric)"
    " ORDER BY b.account_id ON CONFLICT (account_id, period_id) DO UPDATE SET"
    " debit = finance_period_balance.debit + excluded.debit,"
    " credit = finance_period_balance.credit + excluded.credit)")
_NUMBER_DOCUMENT = (", numbered AS (UPDATE {0} SET number = entry.name, entry_id = entry.id"
                    " FROM entry WHERE {0}.id = :document)")
_posting_statements: dict[str | None, Any] = {}


def _posting_statement(document: Document | None) -> Any:
    """The posting statement on PostgreSQL, numbering ``document``'s row as well."""
    name = document.table.name if document is not None else None
    if name not in _posting_statements:
        numbering = _NUMBER_DOCUMENT.format(name) if name else ""
        _posting_statements[name] = sa.text(
            f"{_POSTING_ON_POSTGRESQL}{numbering} SELECT id, number, name, hash FROM entry"
        ).bindparams(sa.bindparam("now", type_=Entry.__table__.c.posted_at.type))
    return _posting_statements[name]


def _json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps([{k: f"{v:f}" if isinstance(v, Decimal) else v for k, v in row.items()}
                       for row in rows])


def _journal(session: Session, code: str) -> tuple[int, str]:
    """A journal's id by code, from the journals the process keeps (never deleted)."""
    found = cached(session, "finance.journals", [Journal.__tablename__], lambda: dict(
        session.execute(sa.select(Journal.code, Journal.id)).all()))
    if code not in found:
        raise ValidationError(f"journal {code} does not exist", {"journal": "unknown"})
    return found[code], code


def _check_accounts(session: Session, accounts: set[int]) -> None:
    """Refuse lines on accounts that are not postable and active as the rows are now
    (the process's copy only spares the read when it lets them all post)."""
    if not accounts <= postable_accounts(session):
        _refuse_unpostable(session, accounts)


def _refuse_unpostable(session: Session, accounts: set[int]) -> None:
    postable = set(session.scalars(_POSTABLE_AMONG, {"ids": sorted(accounts)}))
    if accounts - postable:
        raise ValidationError(f"accounts {sorted(accounts - postable)} do not exist or are"
                              " group accounts", {"lines": "account not postable"})


def _refused(session: Session, draft: EntryDraft, accounts: set[int]) -> None:
    """The statement that takes the number wrote nothing: say why, from the rows as they
    are now (a period closed, a lock date moved or an account deactivated a moment ago
    by another process). Returns when none of them refuses: the sequence is missing."""
    open_period(session, draft.date)
    _refuse_unpostable(session, accounts)


def _take(session: Session, statement: Any, parameters: dict[str, Any], draft: EntryDraft,
          accounts: set[int]) -> Any:
    """Run the statement that takes the number; when it wrote nothing, refuse with the
    reason, or give the journal its sequence in the year and run it again."""
    taken = session.execute(statement, parameters).first()
    if taken is None:
        _refused(session, draft, accounts)
        ensure_sequences(session)
        taken = session.execute(statement, parameters).first()
        if taken is None:
            raise ConflictError(f"journal {draft.journal} cannot post on {draft.date}")
    return taken


@attrs.frozen
class PreparedEntry:
    """An entry checked and ready to post: everything a posting reads, read; what is
    left is the statement that takes the number (``post_prepared``)."""

    draft: EntryDraft
    currency: str
    rows: list[dict[str, Any]]
    accounts: frozenset[int]
    totals: dict[int, tuple[Decimal, Decimal]]
    period_id: int
    year_id: int
    year_name: str
    journal_id: int
    journal_code: str


def prepare_entry(session: Session, draft: EntryDraft) -> PreparedEntry:
    """Check an entry (balanced, accounts postable, an open period, the journal) from
    what the process keeps, without taking its number: a caller that posts several
    entries in one transaction prepares them all first, so the journals' sequences are
    taken by its last statements (``post_prepared``)."""
    settings = book_settings(session)
    currency = draft.currency or settings.currency
    rows = _lines(draft, settings.currency)
    _balance(session, rows, currency != settings.currency)
    accounts = frozenset(row["account_id"] for row in rows)
    _check_accounts(session, set(accounts))
    period = posting_period(session, draft.date)
    journal_id, journal_code = _journal(session, draft.journal)
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    for row in rows:
        debit, credit = totals.get(row["account_id"], (ZERO, ZERO))
        totals[row["account_id"]] = (debit + row["debit"], credit + row["credit"])
    return PreparedEntry(draft, currency, rows, accounts, totals, period.id,
                         period.fiscal_year_id, period.year_name, journal_id, journal_code)


def post_entry(session: Session, draft: EntryDraft, *,
               document: Callable[[], Document] | None = None) -> PostedEntry:
    """Post a balanced entry (see the module's rules) and return its number and hash.

    ``document`` writes the row of the document the entry books (and anything of it),
    once the entry is known to post and before its number is taken, and returns it: the
    posting numbers it (see ``Document``)."""
    prepared = prepare_entry(session, draft)
    booked = document() if document is not None else None
    return post_prepared(session, [(prepared, booked)])[0]


def post_prepared(session: Session, entries: Sequence[tuple[PreparedEntry, Document | None]]
                  ) -> list[PostedEntry]:
    """Take the numbers of prepared entries and write them (numbering their documents),
    one statement each, back to back, in the order of their journals and years whatever
    the order given, so two transactions posting in the same journals queue rather than
    deadlock. Returns the posted entries in the order given."""
    order = sorted(range(len(entries)), key=lambda i: (entries[i][0].journal_code,
                                                       entries[i][0].year_id))
    posted: list[PostedEntry | None] = [None] * len(entries)
    for index in order:
        posted[index] = _post(session, *entries[index])
    return posted  # type: ignore[return-value]


def _post(session: Session, prepared: PreparedEntry, booked: Document | None) -> PostedEntry:
    draft, rows, currency = prepared.draft, prepared.rows, prepared.currency
    accounts = set(prepared.accounts)
    journal_id, journal_code = prepared.journal_id, prepared.journal_code
    period_id, year_id = prepared.period_id, prepared.year_id
    checks = {"journal": journal_id, "year": year_id, "period": period_id, "date": draft.date,
              "account_count": len(accounts)}
    if session.get_bind().dialect.name == "postgresql":
        prefix = f"{journal_code}/{prepared.year_name}/"
        parameters = {
            **checks, "accounts": sorted(accounts), "prefix": prefix,
            "head": f"|{journal_code}|{prefix}",
            "tail": f"|{draft.date.isoformat()}|{currency}{_lines_text(rows)}",
            "currency": currency, "ref": draft.ref, "origin": draft.origin,
            "reversal": draft.reversal_of_id, "now": utcnow(), "lines": _json(rows),
            "balances": _json([{"account_id": account, "debit": debit, "credit": credit}
                               for account, (debit, credit) in sorted(prepared.totals.items())])}
        if booked is not None:
            parameters["document"] = booked.id
        posted = _take(session, _posting_statement(booked), parameters, draft, accounts)
        return PostedEntry(posted.id, posted.name, posted.number, journal_code, draft.date,
                           posted.hash)
    taken = _take(session, _TAKE_NUMBER, {**checks, "ids": sorted(accounts)}, draft, accounts)
    number = taken.next_number - 1
    name = f"{journal_code}/{prepared.year_name}/{number:06d}"
    digest = entry_hash(taken.last_hash, journal_code, name, draft.date, currency, rows)
    session.execute(_SET_HEAD, {"journal": journal_id, "year": year_id, "head": digest})
    [entry_id] = insert_rows(session, Entry, [{
        "journal_id": journal_id, "fiscal_year_id": year_id, "period_id": period_id,
        "number": number, "name": name, "date": draft.date, "currency": currency,
        "ref": draft.ref, "origin": draft.origin, "reversal_of_id": draft.reversal_of_id,
        "previous_hash": taken.last_hash, "hash": digest, "posted_at": utcnow()}])
    session.execute(sa.insert(EntryLine.__table__), [
        {**row, "entry_id": entry_id, "date": draft.date, "period_id": period_id,
         "currency": currency} for row in rows])
    session.execute(_ADD_TO_BALANCES.on(session), [
        {"account_id": account, "period_id": period_id, "debit": debit, "credit": credit}
        for account, (debit, credit) in sorted(prepared.totals.items())])
    if booked is not None:
        session.execute(sa.update(booked.table).where(booked.table.c.id == booked.id)
                        .values(number=name, entry_id=entry_id))
    return PostedEntry(entry_id, name, number, journal_code, draft.date, digest)


def entry_lines(session: Session, entry_id: int) -> list[Any]:
    return list(session.execute(sa.select(EntryLine).where(EntryLine.entry_id == entry_id)
                                .order_by(EntryLine.sequence)).scalars())


def reverse_entry(session: Session, entry_id: int, day: dt.date,
                  ref: str | None = None) -> PostedEntry:
    """Post the mirror of an entry on ``day``: the only way a posted entry is undone."""
    entry = session.get(Entry, entry_id)
    if entry is None:
        from erp_sdk import NotFoundError

        raise NotFoundError(f"entry {entry_id} does not exist")
    if session.scalar(sa.select(Entry.id).where(Entry.reversal_of_id == entry_id)):
        from erp_sdk import ConflictError

        raise ConflictError(f"entry {entry.name} is already reversed")
    journal = session.get(Journal, entry.journal_id)
    lines = [LineDraft(line.account_id, debit=line.credit, credit=line.debit,
                       amount=-line.amount_currency, label=line.label,
                       partner_id=line.partner_id, channel_id=line.channel_id,
                       warehouse_id=line.warehouse_id, order_id=line.order_id,
                       product_id=line.product_id)
             for line in entry_lines(session, entry_id)]
    return post_entry(session, EntryDraft(journal.code, day, lines, currency=entry.currency,
                                          ref=ref or f"reversal of {entry.name}",
                                          origin=entry.origin, reversal_of_id=entry.id))
