"""Supplier bills and carrier invoices, booked from the plugins that own them.

Finance imports neither supply nor logistics: it subscribes to their transitions by
entity name, so the subscriptions fire only where those plugins are enabled, and reads
the attributes their contract names (``supply.bill`` posted; ``logistics.carrier_invoice``
approved). Both go to the purchases journal and owe the amount on payables.

- A bill: goods received not invoiced (untaxed; the receipt credited it at cost) and
  input tax, against payable (the total), with the supplier as partner.
- A carrier invoice: per line, freight at the quoted amount and the difference to what
  was billed as freight variance, both with the line's order as a dimension (so the
  order's margin carries its freight), against payable (the total); any difference
  between the total and the lines' billed amounts is freight variance too.

Each also opens a payable (``payables``) for its total: the bill due on its due date, the
carrier invoice on its date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from erp_finance.accounts import AccountRole, Books, role_accounts
from erp_finance.currencies import rate_on
from erp_finance.ledger import EntryDraft, LineDraft, PostedEntry, post_entry
from erp_finance.money import ZERO, cents
from erp_finance.payables import PayableDraft, open_payable
from erp_sdk import Context, TransitionEvent, on_transition

PURCHASES_JOURNAL = "PUR"


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _line(account: int, amount: Decimal, rate: Decimal, **extra: Any) -> LineDraft:
    """``amount`` in the document's currency: positive a debit, negative a credit."""
    functional = cents(abs(amount) * rate)
    return LineDraft(account, debit=functional if amount > 0 else ZERO,
                     credit=functional if amount < 0 else ZERO, amount=amount, **extra)


def book_supplier_bill(ctx: Context, bill: dict[str, Any]) -> PostedEntry:
    session = ctx.session
    roles = role_accounts(session)
    day, currency = _day(bill["bill_date"]), str(bill["currency"])
    rate = rate_on(session, currency, day)
    untaxed, tax = Decimal(str(bill["untaxed_amount"])), Decimal(str(bill["tax_amount"]))
    total = Decimal(str(bill["total"]))
    partner = bill["supplier_id"]
    lines = [_line(roles[AccountRole.GOODS_RECEIVED_NOT_INVOICED], untaxed, rate,
                   partner_id=partner, label=f"bill {bill['number']}")]
    if tax:
        lines.append(_line(roles[AccountRole.INPUT_TAX], tax, rate, partner_id=partner,
                           label="input tax"))
    lines.append(_line(roles[AccountRole.PAYABLE], -total, rate, partner_id=partner,
                       label=f"bill {bill['number']}"))
    origin = f"supply.bill:{bill['id']}"
    posted = post_entry(session, EntryDraft(PURCHASES_JOURNAL, day, lines, currency=currency,
                                            ref=str(bill["number"])[:120], origin=origin))
    if total > 0:
        open_payable(session, PayableDraft(
            origin, str(bill["number"])[:120],
            f"supplier {partner}", day,
            _day(bill.get("due_date") or day), currency, rate, total, posted.id,
            supplier_id=partner))
    return posted


def book_carrier_invoice(ctx: Context, invoice: dict[str, Any]) -> PostedEntry:
    session = ctx.session
    roles = role_accounts(session)
    day, currency = _day(invoice["invoice_date"]), str(invoice["currency"])
    rate = rate_on(session, currency, day)
    total = Decimal(str(invoice["total"]))
    label = f"{invoice['carrier']} {invoice['number']}"[:200]
    lines, billed_sum = [], ZERO
    for item in invoice.get("lines") or []:
        quoted = Decimal(str(item["quoted_amount"]))
        billed = Decimal(str(item["billed_amount"]))
        billed_sum += billed
        order = item.get("order_id")
        if quoted:
            lines.append(_line(roles[AccountRole.FREIGHT], quoted, rate, order_id=order,
                               label=f"shipment {item.get('shipment_id')}"))
        if billed != quoted:
            lines.append(_line(roles[AccountRole.FREIGHT_VARIANCE], billed - quoted, rate,
                               order_id=order, label=f"shipment {item.get('shipment_id')}"))
    if total != billed_sum:
        lines.append(_line(roles[AccountRole.FREIGHT_VARIANCE], total - billed_sum, rate,
                           label="not allocated to a shipment"))
    lines.append(_line(roles[AccountRole.PAYABLE], -total, rate, label=label))
    origin = f"logistics.carrier_invoice:{invoice['id']}"
    posted = post_entry(session, EntryDraft(PURCHASES_JOURNAL, day, lines, currency=currency,
                                            ref=str(invoice["number"])[:120], origin=origin))
    if total > 0:
        open_payable(session, PayableDraft(
            origin, str(invoice["number"])[:120], str(invoice["carrier"])[:120], day, day,
            currency, rate, total, posted.id))
    return posted


def _books_set_up(ctx: Context) -> bool:
    return ctx.session.scalar(sa.select(Books.id).limit(1)) is not None


BILL_FIELDS = ("id", "number", "supplier_id", "currency", "untaxed_amount", "tax_amount",
               "total", "bill_date", "due_date")
CARRIER_INVOICE_FIELDS = ("id", "number", "carrier", "currency", "total", "invoice_date")
CARRIER_LINE_FIELDS = ("shipment_id", "order_id", "billed_amount", "quoted_amount")


def _read(item: Any, names: tuple[str, ...]) -> dict[str, Any]:
    if isinstance(item, dict):
        return {name: item.get(name) for name in names}
    return {name: getattr(item, name, None) for name in names}


def _record(ctx: Context, event: TransitionEvent) -> Any:
    """The record as its model's object (its attributes, relationships included), or its
    JSON when the entity's service cannot make one."""
    try:
        return ctx.records(event.entity).instance(event.record)
    except Exception:
        return event.record


@on_transition("supply.bill", "post")
def book_the_posted_bill(ctx: Context, event: TransitionEvent) -> None:
    if _books_set_up(ctx):
        book_supplier_bill(ctx, _read(_record(ctx, event), BILL_FIELDS))


@on_transition("logistics.carrier_invoice", "approve")
def book_the_approved_carrier_invoice(ctx: Context, event: TransitionEvent) -> None:
    if _books_set_up(ctx):
        record = _record(ctx, event)
        invoice = _read(record, CARRIER_INVOICE_FIELDS)
        lines = record.get("lines") if isinstance(record, dict) else getattr(record, "lines", None)
        invoice["lines"] = [_read(line, CARRIER_LINE_FIELDS) for line in lines or []]
        book_carrier_invoice(ctx, invoice)
