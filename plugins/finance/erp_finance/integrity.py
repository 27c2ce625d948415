"""Tamper evidence: recompute every journal's hash chain and name the first entry that
does not match.

An entry's hash covers its journal, number, date, currency and every line, and the hash
of the entry before it in its journal and fiscal year (``ledger.entry_hash``). Changing
a line, deleting an entry or inserting one breaks the chain from that entry on; the
verification reports the first such entry of each sequence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_finance.journals import Journal, JournalSequence, genesis_hash
from erp_finance.ledger import Entry, EntryLine, entry_hash
from erp_finance.periods import FiscalYear


@attrs.frozen
class ChainBreak:
    journal: str
    fiscal_year: str
    entry: str | None
    reason: str


@attrs.frozen
class Verification:
    entries: int
    breaks: tuple[ChainBreak, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks


def _lines_by_entry(session: Session, entry_ids: list[int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in session.execute(sa.select(EntryLine.__table__).where(
            EntryLine.entry_id.in_(entry_ids)).order_by(EntryLine.entry_id,
                                                        EntryLine.sequence)):
        grouped.setdefault(row.entry_id, []).append(row)
    return grouped


def _entries(session: Session, journal_id: int, year_id: int, batch: int = 2000
             ) -> Iterator[tuple[Any, list[Any]]]:
    last = 0
    while True:
        entries = session.execute(sa.select(Entry.__table__).where(
            Entry.journal_id == journal_id, Entry.fiscal_year_id == year_id,
            Entry.number > last).order_by(Entry.number).limit(batch)).all()
        if not entries:
            return
        lines = _lines_by_entry(session, [entry.id for entry in entries])
        for entry in entries:
            yield entry, lines.get(entry.id, [])
        last = entries[-1].number


def verify_chains(session: Session) -> Verification:
    breaks, count = [], 0
    for journal, year, head in session.execute(
            sa.select(Journal, FiscalYear, JournalSequence.last_hash)
            .join(JournalSequence, JournalSequence.journal_id == Journal.id)
            .join(FiscalYear, FiscalYear.id == JournalSequence.fiscal_year_id)
            .order_by(Journal.code, FiscalYear.start_date)):
        previous = genesis_hash(journal.code, year.name)
        expected_number = 1
        found = None
        for entry, lines in _entries(session, journal.id, year.id):
            count += 1
            if found is not None:
                continue
            if entry.number != expected_number:
                found = ChainBreak(journal.code, year.name, entry.name,
                                   f"number {entry.number} follows {expected_number - 1}")
            elif entry.previous_hash != previous:
                found = ChainBreak(journal.code, year.name, entry.name,
                                   "does not follow the previous entry's hash")
            elif entry_hash(previous, journal.code, entry.name, entry.date, entry.currency,
                            lines) != entry.hash:
                found = ChainBreak(journal.code, year.name, entry.name,
                                   "its content does not match its hash")
            previous, expected_number = entry.hash, expected_number + 1
        if found is None and previous != head:
            found = ChainBreak(journal.code, year.name, None,
                               "the last entry is missing (the chain head does not match)")
        if found is not None:
            breaks.append(found)
    return Verification(count, tuple(breaks))
