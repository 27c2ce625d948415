"""Fiscal years and their periods: open, closed (a manager may reopen), locked (never again).

Every posting names a date; the period holding that date must be open and the date must
fall after the books' lock date, or the posting is refused with a message that says which
period and why. The process keeps the periods (``posting_period``) so that a posting
need not read them; the posting statement checks the period's row and the lock date
itself (``ledger``), so a period another process closed a moment ago still refuses.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import enum
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_finance.accounts import Books, book_settings, books
from erp_sdk import (
    Base,
    ConflictError,
    Context,
    PermissionDenied,
    RecordMixin,
    ValidationError,
    cached,
)


class PeriodState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


class FiscalYear(RecordMixin, Base):
    __tablename__ = "finance_fiscal_year"

    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    start_date: Mapped[dt.date] = mapped_column(unique=True)
    end_date: Mapped[dt.date]
    state: Mapped[str] = mapped_column(sa.String(16), default=PeriodState.OPEN)
    closing_entry_id: Mapped[int | None]


class Period(RecordMixin, Base):
    __tablename__ = "finance_period"
    __table_args__ = (sa.UniqueConstraint("fiscal_year_id", "start_date"),)

    fiscal_year_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_fiscal_year.id"),
                                                index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    start_date: Mapped[dt.date] = mapped_column(index=True)
    end_date: Mapped[dt.date]
    state: Mapped[str] = mapped_column(sa.String(16), default=PeriodState.OPEN)


def create_fiscal_year(session: Session, year: int, start_month: int = 1) -> FiscalYear:
    """A fiscal year of twelve monthly periods starting on the first of ``start_month``."""
    start = dt.date(year, start_month, 1)
    if session.scalar(sa.select(FiscalYear.id).where(FiscalYear.start_date == start)):
        raise ConflictError(f"fiscal year starting {start} exists")
    months = []
    month_start = start
    for _ in range(12):
        last = calendar.monthrange(month_start.year, month_start.month)[1]
        month_end = month_start.replace(day=last)
        months.append((month_start, month_end))
        month_start = month_end + dt.timedelta(days=1)
    overlap = session.scalar(sa.select(FiscalYear.name).where(
        FiscalYear.start_date <= months[-1][1], FiscalYear.end_date >= start))
    if overlap:
        raise ConflictError(f"fiscal year {overlap} overlaps {start}..{months[-1][1]}")
    name = str(year) if start_month == 1 else f"{year}/{year + 1}"
    fiscal_year = FiscalYear(name=name, start_date=start, end_date=months[-1][1],
                             state=PeriodState.OPEN, version=1)
    session.add(fiscal_year)
    session.flush()
    session.add_all(Period(fiscal_year_id=fiscal_year.id, name=f"{begin:%Y-%m}",
                           start_date=begin, end_date=end, state=PeriodState.OPEN, version=1)
                    for begin, end in months)
    session.flush()
    return fiscal_year


_PERIOD_OF = (sa.select(Period.id, Period.name, Period.state, Period.fiscal_year_id,
                        FiscalYear.name.label("year_name"), Period.start_date, Period.end_date)
              .join(FiscalYear, FiscalYear.id == Period.fiscal_year_id)
              .where(Period.start_date <= sa.bindparam("day"),
                     Period.end_date >= sa.bindparam("day")))


def open_period(session: Session, day: dt.date) -> Any:
    """The period a posting on ``day`` goes to (``id``, ``fiscal_year_id``, ``year_name``),
    as the rows stand now; refuses a day without a period, in a closed or locked period,
    or on or before the lock date."""
    found = session.execute(_PERIOD_OF, {"day": day}).first()
    if found is None:
        raise ValidationError(f"no fiscal period holds {day}: create its fiscal year first",
                              {"date": "outside every fiscal year"})
    if found.state != PeriodState.OPEN:
        raise ConflictError(f"period {found.name} is {found.state}: nothing can post on {day}")
    lock_date = session.scalar(sa.select(Books.lock_date).limit(1))
    if lock_date is not None and day <= lock_date:
        raise ConflictError(f"the books are locked up to {lock_date}: nothing can post on {day}")
    return found


@attrs.frozen
class PostingPeriod:
    """A period as a posting needs it."""

    id: int
    name: str
    state: str
    fiscal_year_id: int
    year_name: str
    start_date: dt.date
    end_date: dt.date


def _periods(session: Session) -> tuple[PostingPeriod, ...]:
    """Every period, by start date, kept by the process until a period or a fiscal year
    is written."""
    return cached(session, "finance.periods", [Period.__tablename__, FiscalYear.__tablename__],
                  lambda: tuple(PostingPeriod(*row) for row in session.execute(
                      sa.select(Period.id, Period.name, Period.state, Period.fiscal_year_id,
                                FiscalYear.name, Period.start_date, Period.end_date)
                      .join(FiscalYear, FiscalYear.id == Period.fiscal_year_id)
                      .order_by(Period.start_date))))


def posting_period(session: Session, day: dt.date) -> PostingPeriod:
    """The period a posting on ``day`` goes to, from the periods the process keeps when
    they let it post; when they do not, ``open_period`` reads the rows themselves and
    refuses (or finds that the period was reopened meanwhile). The posting statement
    checks the period's row and the lock date again, for a change made a moment ago."""
    periods = _periods(session)
    index = bisect.bisect_right([period.start_date for period in periods], day) - 1
    if index >= 0:
        period = periods[index]
        lock_date = book_settings(session).lock_date
        if day <= period.end_date and period.state == PeriodState.OPEN \
                and (lock_date is None or day > lock_date):
            return period
    found = open_period(session, day)
    return PostingPeriod(found.id, found.name, found.state, found.fiscal_year_id,
                         found.year_name, found.start_date, found.end_date)


def period_of(session: Session, day: dt.date) -> Period | None:
    return session.scalar(sa.select(Period).where(Period.start_date <= day,
                                                  Period.end_date >= day))


def set_period_state(ctx: Context, period_id: int, state: PeriodState) -> Period:
    """Close, reopen (managers only) or lock a period. A locked period never changes again."""
    period = ctx.session.get(Period, period_id, with_for_update={"key_share": True})
    if period is None:
        from erp_sdk import NotFoundError

        raise NotFoundError(f"period {period_id} does not exist")
    if period.state == PeriodState.LOCKED:
        raise ConflictError(f"period {period.name} is locked: it never changes again")
    if state == PeriodState.OPEN and period.state == PeriodState.CLOSED \
            and not ctx.principal.can("finance.period.reopen"):
        raise PermissionDenied("reopening a closed period needs finance.period.reopen"
                               " (finance.manager)")
    if state == PeriodState.LOCKED:
        ctx.principal.require("finance.period.lock")
    else:
        ctx.principal.require("finance.period.close")
    before = {"state": period.state}
    period.state = state
    period.version += 1
    ctx.session.flush()
    ctx.audit("finance.period", period.id, state.value, before, {"state": state.value})
    return period


def set_lock_date(ctx: Context, day: dt.date | None) -> None:
    """Nothing posts on or before ``day``; moving it back needs a manager."""
    ctx.principal.require("finance.period.close")
    current = books(ctx.session)
    if current.lock_date and (day is None or day < current.lock_date):
        ctx.principal.require("finance.period.reopen")
    before = {"lock_date": str(current.lock_date) if current.lock_date else None}
    current.lock_date = day
    current.version += 1
    ctx.session.flush()
    ctx.audit("finance.books", current.id, "lock_date", before,
              {"lock_date": str(day) if day else None})
