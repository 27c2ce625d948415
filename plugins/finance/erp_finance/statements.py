"""Statements for any date range: trial balance, general ledger, profit and loss, balance
sheet, receivable and payable aging, margin per order and per product.

Without analytic filters a balance up to a day is read from the per-period balances
(whole periods: a few rows per account) plus the lines of the one period the day falls
in, so a year's statements cost the same over ten or ten million lines. With filters
(channel, warehouse, order, product) the lines are summed directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_finance.accounts import (
    DEBIT_NATURED,
    PROFIT_AND_LOSS,
    Account,
    AccountKind,
    AccountRole,
    AccountType,
    role_accounts,
)
from erp_finance.invoices import Invoice, InvoiceKind
from erp_finance.ledger import ANALYTIC_DIMENSIONS, Entry, EntryLine, PeriodBalance
from erp_finance.money import ZERO
from erp_finance.payables import Payable
from erp_finance.periods import Period

Totals = dict[int, tuple[Decimal, Decimal]]
"""Per account id: (debits, credits)."""


@attrs.frozen
class Filters:
    """Analytic dimensions a statement is narrowed to (None: every value)."""

    channel_id: int | None = None
    warehouse_id: int | None = None
    order_id: int | None = None
    product_id: int | None = None

    def conditions(self) -> list[Any]:
        return [getattr(EntryLine, name) == getattr(self, name)
                for name in ANALYTIC_DIMENSIONS if getattr(self, name) is not None]


NO_FILTERS = Filters()


def _add(into: Totals, rows: Any) -> Totals:
    for account, debit, credit in rows:
        before = into.get(account, (ZERO, ZERO))
        into[account] = (before[0] + Decimal(debit or 0), before[1] + Decimal(credit or 0))
    return into


def _lines_between(session: Session, first: dt.date | None, last: dt.date,
                   filters: Filters) -> Any:
    conditions = [EntryLine.date <= last, *filters.conditions()]
    if first is not None:
        conditions.append(EntryLine.date >= first)
    return session.execute(sa.select(EntryLine.account_id, sa.func.sum(EntryLine.debit),
                                     sa.func.sum(EntryLine.credit))
                           .where(*conditions).group_by(EntryLine.account_id))


def balances_upto(session: Session, day: dt.date, filters: Filters = NO_FILTERS) -> Totals:
    """Debits and credits per account of everything dated on or before ``day``."""
    if filters.conditions():
        return _add({}, _lines_between(session, None, day, filters))
    totals = _add({}, session.execute(
        sa.select(PeriodBalance.account_id, sa.func.sum(PeriodBalance.debit),
                  sa.func.sum(PeriodBalance.credit))
        .join(Period, Period.id == PeriodBalance.period_id)
        .where(Period.end_date <= day).group_by(PeriodBalance.account_id)))
    partial = session.execute(sa.select(Period.start_date, Period.end_date).where(
        Period.start_date <= day, Period.end_date > day)).first()
    if partial is not None:
        _add(totals, _lines_between(session, partial.start_date, day, filters))
    return totals


def _accounts(session: Session) -> list[Any]:
    return session.execute(sa.select(Account.id, Account.code, Account.name, Account.name_en,
                                     Account.type, Account.kind, Account.parent_id)
                           .order_by(Account.code)).all()


def _minus(a: Totals, b: Totals) -> Totals:
    return {key: (a.get(key, (ZERO, ZERO))[0] - b.get(key, (ZERO, ZERO))[0],
                  a.get(key, (ZERO, ZERO))[1] - b.get(key, (ZERO, ZERO))[1])
            for key in set(a) | set(b)}


def _day_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=1)


def trial_balance(session: Session, first: dt.date, last: dt.date,
                  filters: Filters = NO_FILTERS) -> dict[str, Any]:
    """Per account: opening balance, debits and credits of the range, closing balance
    (balances are debit minus credit). The debits equal the credits and the closing
    balances add up to zero."""
    opening = balances_upto(session, _day_before(first), filters)
    closing = balances_upto(session, last, filters)
    moved = _minus(closing, opening)
    rows = []
    for account in _accounts(session):
        before = opening.get(account.id, (ZERO, ZERO))
        debit, credit = moved.get(account.id, (ZERO, ZERO))
        after = closing.get(account.id, (ZERO, ZERO))
        if not (any(before) or debit or credit or any(after)):
            continue
        rows.append({"account": account.code, "name": account.name, "type": account.type,
                     "opening": before[0] - before[1], "debit": debit, "credit": credit,
                     "closing": after[0] - after[1]})
    return {"from": first, "to": last, "rows": rows,
            "totals": {"debit": sum((r["debit"] for r in rows), ZERO),
                       "credit": sum((r["credit"] for r in rows), ZERO),
                       "closing": sum((r["closing"] for r in rows), ZERO)}}


def _natural(account_type: str, debit: Decimal, credit: Decimal) -> Decimal:
    return debit - credit if account_type in DEBIT_NATURED else credit - debit


def profit_and_loss(session: Session, first: dt.date, last: dt.date,
                    filters: Filters = NO_FILTERS) -> dict[str, Any]:
    moved = _minus(balances_upto(session, last, filters),
                   balances_upto(session, _day_before(first), filters))
    sections: dict[str, list[dict[str, Any]]] = {AccountType.INCOME: [], AccountType.EXPENSE: []}
    for account in _accounts(session):
        if account.type not in PROFIT_AND_LOSS or account.id not in moved:
            continue
        amount = _natural(account.type, *moved[account.id])
        if amount:
            sections[account.type].append({"account": account.code, "name": account.name,
                                           "amount": amount})
    income = sum((row["amount"] for row in sections[AccountType.INCOME]), ZERO)
    expenses = sum((row["amount"] for row in sections[AccountType.EXPENSE]), ZERO)
    return {"from": first, "to": last, "income": sections[AccountType.INCOME],
            "expenses": sections[AccountType.EXPENSE], "total_income": income,
            "total_expenses": expenses, "net_profit": income - expenses}


def balance_sheet(session: Session, day: dt.date, filters: Filters = NO_FILTERS
                  ) -> dict[str, Any]:
    """Assets, liabilities and equity on ``day``; the profit not yet closed into retained
    earnings shows as the period's earnings, so assets = liabilities + equity."""
    totals = balances_upto(session, day, filters)
    sections: dict[str, list[dict[str, Any]]] = {AccountType.ASSET: [],
                                                 AccountType.LIABILITY: [],
                                                 AccountType.EQUITY: []}
    earnings = ZERO
    for account in _accounts(session):
        if account.id not in totals:
            continue
        amount = _natural(account.type, *totals[account.id])
        if account.type in PROFIT_AND_LOSS:
            earnings += amount if account.type == AccountType.INCOME else -amount
        elif amount:
            sections[account.type].append({"account": account.code, "name": account.name,
                                           "amount": amount})
    assets = sum((row["amount"] for row in sections[AccountType.ASSET]), ZERO)
    liabilities = sum((row["amount"] for row in sections[AccountType.LIABILITY]), ZERO)
    equity = sum((row["amount"] for row in sections[AccountType.EQUITY]), ZERO) + earnings
    return {"date": day, "assets": sections[AccountType.ASSET],
            "liabilities": sections[AccountType.LIABILITY],
            "equity": sections[AccountType.EQUITY], "unclosed_earnings": earnings,
            "total_assets": assets, "total_liabilities": liabilities, "total_equity": equity,
            "balanced": assets == liabilities + equity}


def general_ledger(session: Session, first: dt.date, last: dt.date, account_code: str,
                   filters: Filters = NO_FILTERS, limit: int = 1000) -> dict[str, Any]:
    """The lines of one account in the range, with the opening and a running balance."""
    account = session.scalar(sa.select(Account).where(Account.code == account_code))
    if account is None:
        from erp_sdk import NotFoundError

        raise NotFoundError(f"account {account_code} does not exist")
    before = balances_upto(session, _day_before(first), filters).get(account.id, (ZERO, ZERO))
    balance = before[0] - before[1]
    rows = []
    for line, name in session.execute(
            sa.select(EntryLine, Entry.name).join(Entry, Entry.id == EntryLine.entry_id)
            .where(EntryLine.account_id == account.id, EntryLine.date >= first,
                   EntryLine.date <= last, *filters.conditions())
            .order_by(EntryLine.date, EntryLine.id).limit(limit)):
        balance += line.debit - line.credit
        rows.append({"date": line.date, "entry": name, "label": line.label,
                     "debit": line.debit, "credit": line.credit, "currency": line.currency,
                     "amount_currency": line.amount_currency, "partner_id": line.partner_id,
                     "order_id": line.order_id, "balance": balance})
    return {"account": account.code, "name": account.name, "from": first, "to": last,
            "opening": before[0] - before[1], "lines": rows, "closing": balance,
            "truncated": len(rows) == limit}


AGING_BUCKETS = ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90"))


def _bucket(days_overdue: int) -> str:
    for limit, name in AGING_BUCKETS:
        if days_overdue <= limit:
            return name
    return "over_90"


def receivable_aging(session: Session, day: dt.date) -> dict[str, Any]:
    """Open invoice residuals (less open credit notes) per customer, by days overdue."""
    customers: dict[int, dict[str, Decimal]] = {}
    buckets = [name for _, name in AGING_BUCKETS] + ["over_90"]
    for invoice in session.scalars(sa.select(Invoice).where(Invoice.residual != 0,
                                                            Invoice.date <= day)):
        sign = 1 if invoice.kind == InvoiceKind.INVOICE else -1
        row = customers.setdefault(invoice.customer_id, dict.fromkeys(buckets, ZERO))
        row[_bucket((day - invoice.due_date).days)] += sign * invoice.residual
    rows = [{"customer_id": customer, **amounts, "total": sum(amounts.values(), ZERO)}
            for customer, amounts in sorted(customers.items())]
    return {"date": day, "rows": rows,
            "total": sum((row["total"] for row in rows), ZERO)}


def payable_aging(session: Session, day: dt.date) -> dict[str, Any]:
    """Open payables per creditor (supplier or carrier) and currency, by days overdue."""
    creditors: dict[tuple[str, int | None, str], dict[str, Decimal]] = {}
    buckets = [name for _, name in AGING_BUCKETS] + ["over_90"]
    for payable in session.scalars(sa.select(Payable).where(Payable.residual != 0,
                                                            Payable.date <= day)):
        key = (payable.creditor, payable.supplier_id, payable.currency)
        row = creditors.setdefault(key, dict.fromkeys(buckets, ZERO))
        row[_bucket((day - payable.due_date).days)] += payable.residual
    rows = [{"creditor": creditor, "supplier_id": supplier, "currency": currency, **amounts,
             "total": sum(amounts.values(), ZERO)}
            for (creditor, supplier, currency), amounts in sorted(
                creditors.items(), key=lambda item: (item[0][0], item[0][2]))]
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row["currency"]] = totals.get(row["currency"], ZERO) + row["total"]
    return {"date": day, "rows": rows, "totals": totals}


def margins(session: Session, first: dt.date, last: dt.date, by: str = "order_id",
            filters: Filters = NO_FILTERS) -> dict[str, Any]:
    """Revenue, cost of goods sold, freight, fees and margin per order (or product),
    from the lines that carry the dimension."""
    if by not in ("order_id", "product_id"):
        from erp_sdk import ValidationError

        raise ValidationError("margins are by order_id or product_id", {"by": "unknown"})
    roles = role_accounts(session)
    freight = {roles.get(AccountRole.FREIGHT), roles.get(AccountRole.FREIGHT_VARIANCE)}
    fees = {roles.get(AccountRole.PAYMENT_FEES)}
    column = getattr(EntryLine, by)
    result: dict[int, dict[str, Decimal]] = {}
    for key, account_type, kind, account_id, debit, credit in session.execute(
            sa.select(column, Account.type, Account.kind, Account.id,
                      sa.func.sum(EntryLine.debit), sa.func.sum(EntryLine.credit))
            .join(Account, Account.id == EntryLine.account_id)
            .where(column.is_not(None), EntryLine.date >= first, EntryLine.date <= last,
                   Account.type.in_([AccountType.INCOME, AccountType.EXPENSE]),
                   *filters.conditions())
            .group_by(column, Account.type, Account.kind, Account.id)):
        row = result.setdefault(key, {"revenue": ZERO, "cogs": ZERO, "freight": ZERO,
                                      "fees": ZERO, "other": ZERO})
        amount = Decimal(credit or 0) - Decimal(debit or 0)
        if account_type == AccountType.INCOME:
            row["revenue"] += amount
        elif kind == AccountKind.COST_OF_GOODS_SOLD:
            row["cogs"] -= amount
        elif account_id in freight:
            row["freight"] -= amount
        elif account_id in fees:
            row["fees"] -= amount
        else:
            row["other"] -= amount
    rows = [{by: key, **values,
             "margin": values["revenue"] - values["cogs"] - values["freight"] - values["fees"]
             - values["other"]} for key, values in sorted(result.items())]
    return {"from": first, "to": last, "by": by, "rows": rows}


CASH_KINDS = (AccountKind.BANK, AccountKind.CASH)


def _cash_category(account_type: str, kind: str) -> str:
    if kind == AccountKind.RECEIVABLE:
        return "from customers"
    if kind == AccountKind.PAYABLE:
        return "to suppliers"
    if kind == AccountKind.TAX:
        return "taxes"
    if account_type == AccountType.EQUITY:
        return "financing"
    if account_type in PROFIT_AND_LOSS:
        return "other operating"
    return "other"


def cash_flow(session: Session, first: dt.date, last: dt.date,
              filters: Filters = NO_FILTERS) -> dict[str, Any]:
    """The direct cash flow: bank and cash movements of the range, each entry's classified
    by its largest counterpart line (customers, suppliers, taxes, financing, ...); money
    moved between bank and cash accounts is no flow."""
    cash_accounts = set(session.scalars(sa.select(Account.id).where(
        Account.kind.in_(CASH_KINDS))))
    opening_totals = balances_upto(session, _day_before(first), filters)
    opening = sum((opening_totals.get(a, (ZERO, ZERO))[0] - opening_totals.get(a, (ZERO, ZERO))[1]
                   for a in cash_accounts), ZERO)
    entries: dict[int, list[Any]] = {}
    touched = (sa.select(EntryLine.entry_id).where(EntryLine.account_id.in_(cash_accounts),
                                                   EntryLine.date >= first,
                                                   EntryLine.date <= last,
                                                   *filters.conditions()))
    for line in session.execute(
            sa.select(EntryLine.entry_id, EntryLine.account_id, EntryLine.debit,
                      EntryLine.credit, Account.type, Account.kind)
            .join(Account, Account.id == EntryLine.account_id)
            .where(EntryLine.entry_id.in_(touched)).order_by(EntryLine.id)):
        entries.setdefault(line.entry_id, []).append(line)
    flows: dict[str, Decimal] = {}
    for lines in entries.values():
        moved = sum((ln.debit - ln.credit for ln in lines if ln.account_id in cash_accounts),
                    ZERO)
        others = [ln for ln in lines if ln.account_id not in cash_accounts]
        if not moved or not others:
            continue
        largest = max(others, key=lambda ln: ln.debit + ln.credit)
        category = _cash_category(largest.type, largest.kind)
        flows[category] = flows.get(category, ZERO) + moved
    rows = [{"category": name, "amount": amount} for name, amount in sorted(flows.items())]
    net = sum(flows.values(), ZERO)
    return {"from": first, "to": last, "opening_cash": opening, "rows": rows,
            "net_change": net, "closing_cash": opening + net}


def as_rows(statement: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A statement flattened to rows for CSV and spreadsheet export."""
    for key in ("rows", "lines"):
        if key in statement:
            return list(statement[key])
    rows = []
    for section in ("income", "expenses", "assets", "liabilities", "equity"):
        for row in statement.get(section, []):
            rows.append({"section": section, **row})
    return rows
