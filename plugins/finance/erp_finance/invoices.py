"""Customer invoices and credit notes: written and posted by the order's own transitions.

A channel's ``InvoicePolicy`` says when its orders are invoiced: on shipment (the
default: each shipment invoices what it shipped) or on confirmation (the whole order
when it is approved). An invoice line takes its share of the order line's net amount
cumulatively, like the orders plugin's refunds: the invoices of a line, however the
shipments split it, add up to exactly its net amount and its tax. Where a finance tax
rule matches the product's category and the destination country, the rule's rate (and
whether the price includes it) applies instead, rounded by the company's mode
(``taxes``). The order's
shipping charge goes on its first invoice.

A credit note is posted when a return is refunded, for the amounts the orders plugin
recorded per returned line, and refers to the order's invoice. Posting: receivable
(debit, the total, with the customer as partner) against sales and shipping (credit,
the nets) and output tax (credit, per tax account); a credit note the other way round.
Amounts in a foreign currency are converted at the rate of the invoice's date.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_finance.accounts import AccountRole, book_settings, role_accounts
from erp_finance.currencies import RATE_TYPE, rate_on
from erp_finance.ledger import (
    Document,
    EntryDraft,
    LineDraft,
    PostedEntry,
    PreparedEntry,
    post_prepared,
    prepare_entry,
)
from erp_finance.money import ZERO, cents
from erp_finance.taxes import ApplicableTax, TaxableLine, TaxRule, compute_taxes, most_specific
from erp_inventory.catalogue import Product
from erp_orders.order import Order, OrderLine
from erp_orders.returns import ReturnLine, ReturnRequest
from erp_sdk import (
    Base,
    Money,
    Quantity,
    Rate,
    RecordMixin,
    UtcDateTime,
    attach_loaded,
    insert_rows,
    utcnow,
)

SALES_JOURNAL = "SAL"


class InvoiceOn(enum.StrEnum):
    SHIPMENT = "shipment"
    CONFIRMATION = "confirmation"


class InvoicePolicy(RecordMixin, Base):
    """When a channel's orders are invoiced, and when its invoices fall due."""

    __tablename__ = "finance_invoice_policy"

    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_channel.id"), unique=True)
    invoice_on: Mapped[str] = mapped_column(sa.String(16), default=InvoiceOn.SHIPMENT)
    due_days: Mapped[int] = mapped_column(default=0)


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceState(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"


class Invoice(RecordMixin, Base):
    __tablename__ = "finance_invoice"

    # Both written by the posting of the invoice's entry, in its transaction (``post_invoice``).
    number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default=InvoiceKind.INVOICE)
    state: Mapped[str] = mapped_column(sa.String(16), default=InvoiceState.OPEN, index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_customer.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_order.id"), index=True)
    return_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_return_request.id"))
    refers_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_invoice.id"))
    channel_id: Mapped[int | None]
    warehouse_id: Mapped[int | None]
    currency: Mapped[str] = mapped_column(sa.String(3))
    rate: Mapped[Decimal] = mapped_column(RATE_TYPE)
    date: Mapped[dt.date] = mapped_column(index=True)
    due_date: Mapped[dt.date]
    untaxed: Mapped[Money]
    tax: Mapped[Money]
    total: Mapped[Money]
    residual: Mapped[Money]
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_entry.id"))
    posted_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)


class InvoiceLine(Base):
    __tablename__ = "finance_invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("finance_invoice.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_order_line.id"),
                                                      index=True)
    product_id: Mapped[int | None]
    description: Mapped[str | None] = mapped_column(sa.String(200))
    quantity: Mapped[Quantity]
    tax_rate: Mapped[Rate]
    net: Mapped[Money]
    tax: Mapped[Money]
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_account.id"))
    tax_account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_account.id"))


@attrs.frozen
class DraftLine:
    account_id: int
    quantity: Decimal
    net: Decimal
    tax: Decimal
    tax_rate: Decimal
    tax_account_id: int | None
    description: str | None = None
    product_id: int | None = None
    order_line_id: int | None = None


_POLICY = sa.select(InvoicePolicy).where(InvoicePolicy.channel_id == sa.bindparam("channel"))


def invoice_policy(session: Session, channel_id: int) -> InvoicePolicy | None:
    return session.scalar(_POLICY, {"channel": channel_id})


def _share(amount: Decimal, whole: Decimal, upto: Decimal) -> Decimal:
    return cents(amount * upto / whole)


_INVOICED_OF_LINE = (sa.select(sa.func.sum(InvoiceLine.quantity))
                     .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                     .where(InvoiceLine.order_line_id == OrderLine.id,
                            Invoice.order_id == OrderLine.order_id,
                            Invoice.kind == InvoiceKind.INVOICE)
                     .correlate(OrderLine).scalar_subquery())
_LINES_TO_INVOICE = (
    # Each line of the order with what its invoices took already and every active tax
    # rule that matches its product's category and the destination (one row per rule,
    # or one without a rule), as the rows are now: one statement for the whole order.
    sa.select(OrderLine.id, OrderLine.quantity, OrderLine.quantity_shipped,
              OrderLine.line_net, OrderLine.line_tax, OrderLine.tax_rate,
              OrderLine.description, OrderLine.sku, OrderLine.product_id,
              _INVOICED_OF_LINE.label("invoiced"), TaxRule.id.label("rule_id"),
              TaxRule.rate.label("rule_rate"),
              TaxRule.price_included.label("rule_price_included"),
              TaxRule.account_id.label("rule_account_id"),
              TaxRule.category_id.label("rule_category_id"),
              TaxRule.country.label("rule_country"))
    .outerjoin(Product, Product.id == OrderLine.product_id)
    .outerjoin(TaxRule, sa.and_(
        TaxRule.active.is_(True),
        sa.or_(TaxRule.category_id.is_(None), TaxRule.category_id == Product.category_id),
        sa.or_(TaxRule.country.is_(None), TaxRule.country == sa.bindparam("country"))))
    .where(OrderLine.order_id == sa.bindparam("order"))
    .order_by(OrderLine.id, TaxRule.id))


def _lines_to_invoice(session: Session, order: Order) -> list[tuple[Any, ApplicableTax | None]]:
    """The order's lines, each with what is invoiced of it already and the tax rule that
    applies to it (``taxes.applicable_tax``'s choice), read in one statement."""
    lines: dict[int, tuple[Any, list[ApplicableTax]]] = {}
    for row in session.execute(_LINES_TO_INVOICE, {"order": order.id,
                                                   "country": (order.ship_country or "").upper()}):
        _, rules = lines.setdefault(row.id, (row, []))
        if row.rule_id is not None:
            rules.append(ApplicableTax(row.rule_rate, row.rule_price_included,
                                       row.rule_account_id, row.rule_id,
                                       row.rule_category_id, row.rule_country))
    return [(row, most_specific(rules)) for row, rules in lines.values()]


def invoice_order(session: Session, order_id: int, *, shipped_only: bool,
                  day: dt.date | None = None) -> Invoice | None:
    """Invoice what the order has not invoiced yet: what it shipped (``shipped_only``) or
    all its lines. Returns the posted invoice, or None when nothing is left."""
    prepared = prepare_order_invoice(session, order_id, shipped_only=shipped_only, day=day)
    if prepared is None:
        return None
    return prepared.attach(session, post_prepared(session, [prepared.posting])[0])


def prepare_order_invoice(session: Session, order_id: int, *, shipped_only: bool,
                          day: dt.date | None = None, due_days: int | None = None
                          ) -> PreparedInvoice | None:
    """``invoice_order`` up to its posting: the invoice written, its number not taken
    yet. ``due_days``: the channel's policy's, when the caller read it already."""
    order = session.get(Order, order_id)
    settings = book_settings(session)
    roles = role_accounts(session)
    taxable, drafts = [], []
    first = True
    for line, rule in _lines_to_invoice(session, order):
        done = Decimal(line.invoiced or 0)
        first = first and line.invoiced is None
        upto = line.quantity_shipped if shipped_only else line.quantity
        if upto <= done:
            continue
        net = _share(line.line_net, line.quantity, upto) - _share(line.line_net, line.quantity,
                                                                   done)
        if rule is None:  # the order's own tax, shared out like its net amount
            tax = _share(line.line_tax, line.quantity, upto) - _share(line.line_tax,
                                                                      line.quantity, done)
            drafts.append([line, upto - done, line.tax_rate, None, net, tax])
        else:
            taxable.append((len(drafts), TaxableLine(Decimal(1), net, rule.rate,
                                                     price_included=rule.price_included)))
            drafts.append([line, upto - done, rule.rate, rule.account_id, net, ZERO])
    if not drafts:
        return None
    taxed = compute_taxes([item for _, item in taxable], settings.tax_rounding)
    for (index, _), amounts in zip(taxable, taxed.lines, strict=True):
        drafts[index][4:] = [amounts.net, amounts.tax]
    draft_lines = [DraftLine(roles[AccountRole.SALES], quantity, net, tax, rate,
                             tax_account or roles[AccountRole.OUTPUT_TAX],
                             line.description or line.sku, line.product_id, line.id)
                   for line, quantity, rate, tax_account, net, tax in drafts]
    if first and order.shipping_amount:
        draft_lines.append(DraftLine(roles[AccountRole.SHIPPING_INCOME], Decimal(1),
                                     cents(order.shipping_amount), ZERO, ZERO, None, "Shipping"))
    if due_days is None:
        policy = invoice_policy(session, order.channel_id)
        due_days = policy.due_days if policy else 0
    day = day or utcnow().date()
    return prepare_invoice(session, InvoiceKind.INVOICE, draft_lines,
                           customer_id=order.customer_id, currency=order.currency, day=day,
                           due_days=due_days, order_id=order.id, channel_id=order.channel_id,
                           warehouse_id=order.warehouse_id, ref=order.number)


def credit_note_for_return(session: Session, return_id: int, day: dt.date | None = None
                           ) -> Invoice | None:
    """The credit note of a refunded return: its lines' recorded refunds (tax included)."""
    request = session.get(ReturnRequest, return_id)
    order = session.get(Order, request.order_id)
    roles = role_accounts(session)
    drafts = []
    for line, order_line in session.execute(
            sa.select(ReturnLine, OrderLine).join(OrderLine,
                                                  OrderLine.id == ReturnLine.order_line_id)
            .where(ReturnLine.return_id == return_id).order_by(ReturnLine.id)):
        amount, tax = line.refund_amount or ZERO, line.refund_tax or ZERO
        if not amount:
            continue
        drafts.append(DraftLine(roles[AccountRole.SALES], line.quantity, amount - tax, tax,
                                order_line.tax_rate, roles[AccountRole.OUTPUT_TAX],
                                order_line.description or order_line.sku, order_line.product_id,
                                order_line.id))
    if not drafts:
        return None
    refers_to = session.scalar(sa.select(Invoice.id).where(
        Invoice.order_id == order.id, Invoice.kind == InvoiceKind.INVOICE)
        .order_by(Invoice.id.desc()).limit(1))
    return post_invoice(session, InvoiceKind.CREDIT_NOTE, drafts, customer_id=order.customer_id,
                        currency=order.currency, day=day or utcnow().date(), due_days=0,
                        order_id=order.id, channel_id=order.channel_id,
                        warehouse_id=order.warehouse_id, return_id=return_id,
                        refers_to_id=refers_to, ref=f"return {return_id} of {order.number}")


@attrs.frozen
class PreparedInvoice:
    """An invoice written, with its entry checked and ready to post (``posting``); the
    posting numbers it, then ``attach`` gives the invoice as posted."""

    posting: tuple[PreparedEntry, Document]
    values: dict[str, Any]

    def attach(self, session: Session, posted: PostedEntry) -> Invoice:
        [invoice] = attach_loaded(session, Invoice, [
            {**self.values, "number": posted.name, "entry_id": posted.id}])
        return invoice


def post_invoice(session: Session, kind: InvoiceKind, lines: Sequence[DraftLine], *,
                 customer_id: int, currency: str, day: dt.date, due_days: int = 0,
                 order_id: int | None = None, channel_id: int | None = None,
                 warehouse_id: int | None = None, return_id: int | None = None,
                 refers_to_id: int | None = None, ref: str | None = None) -> Invoice:
    """Post the entry of an invoice or credit note and record the document."""
    prepared = prepare_invoice(session, kind, lines, customer_id=customer_id,
                               currency=currency, day=day, due_days=due_days,
                               order_id=order_id, channel_id=channel_id,
                               warehouse_id=warehouse_id, return_id=return_id,
                               refers_to_id=refers_to_id, ref=ref)
    return prepared.attach(session, post_prepared(session, [prepared.posting])[0])


def prepare_invoice(session: Session, kind: InvoiceKind, lines: Sequence[DraftLine], *,
                    customer_id: int, currency: str, day: dt.date, due_days: int = 0,
                    order_id: int | None = None, channel_id: int | None = None,
                    warehouse_id: int | None = None, return_id: int | None = None,
                    refers_to_id: int | None = None, ref: str | None = None
                    ) -> PreparedInvoice:
    """``post_invoice`` up to the statement that takes the number: the entry checked,
    the invoice and its lines written (once the entry is known to post)."""
    roles = role_accounts(session)
    rate = rate_on(session, currency, day)
    sign = 1 if kind == InvoiceKind.INVOICE else -1
    dims = {"order_id": order_id, "channel_id": channel_id, "warehouse_id": warehouse_id}

    def posting(account: int, amount: Decimal, label: str | None, **extra: Any) -> LineDraft:
        """``amount`` is a credit of the invoice (negative: a debit), in its currency."""
        signed = amount * sign
        functional = cents(abs(signed) * rate)
        return LineDraft(account, debit=functional if signed < 0 else ZERO,
                         credit=functional if signed > 0 else ZERO, amount=-signed, label=label,
                         **{**dims, **extra})

    entry_lines = []
    for line in lines:
        if line.net:
            entry_lines.append(posting(line.account_id, line.net, line.description,
                                       product_id=line.product_id))
    taxes: dict[int, Decimal] = {}
    for line in lines:
        if line.tax:
            taxes[line.tax_account_id] = taxes.get(line.tax_account_id, ZERO) + line.tax
    for account, amount in sorted(taxes.items()):
        entry_lines.append(posting(account, amount, "tax"))
    untaxed = sum((line.net for line in lines), ZERO)
    tax = sum(taxes.values(), ZERO)
    total = untaxed + tax
    entry_lines.append(posting(roles[AccountRole.RECEIVABLE], -total, ref,
                               partner_id=customer_id))
    entry = prepare_entry(session, EntryDraft(
        SALES_JOURNAL, day, entry_lines, currency=currency, ref=ref,
        origin=f"orders.order:{order_id}" if order_id else None))
    now = utcnow()
    values = {"number": None, "kind": kind, "state": InvoiceState.OPEN,
              "customer_id": customer_id, "order_id": order_id, "return_id": return_id,
              "refers_to_id": refers_to_id, "channel_id": channel_id,
              "warehouse_id": warehouse_id, "currency": currency, "rate": rate, "date": day,
              "due_date": day + dt.timedelta(days=due_days), "untaxed": untaxed, "tax": tax,
              "total": total, "residual": total, "entry_id": None, "posted_at": now,
              "version": 1, "created_at": now, "updated_at": now}
    # The invoice and its lines, written before the statement that takes the entry's
    # number (which numbers the invoice, see ``ledger.Document``).
    [values["id"]] = insert_rows(session, Invoice, [values])
    insert_rows(session, InvoiceLine, [
        {"invoice_id": values["id"], "order_line_id": line.order_line_id,
         "product_id": line.product_id, "description": line.description,
         "quantity": line.quantity, "tax_rate": line.tax_rate, "net": line.net,
         "tax": line.tax, "account_id": line.account_id,
         "tax_account_id": line.tax_account_id}
        for line in lines])
    return PreparedInvoice((entry, Document(Invoice.__table__, values["id"])), values)
