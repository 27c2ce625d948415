"""Finance over HTTP, under /api/v1/finance: set-up, entries, periods, payments, statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, RawBody

from erp_finance import exports, statements
from erp_finance.accounts import AccountRole, TaxRounding, account_by_code
from erp_finance.charts import setup_books
from erp_finance.closing import close_fiscal_year
from erp_finance.currencies import set_rate
from erp_finance.integrity import verify_chains
from erp_finance.invoices import Invoice
from erp_finance.journals import ensure_sequences
from erp_finance.ledger import Entry, EntryDraft, LineDraft, entry_lines, post_entry, reverse_entry
from erp_finance.payables import Payable, pay_payable
from erp_finance.payments import (
    PaymentDirection,
    PaymentDraft,
    match,
    receive_payment,
)
from erp_finance.periods import PeriodState, create_fiscal_year, set_lock_date, set_period_state
from erp_finance.requests import (
    EntryRequest,
    FiscalYearRequest,
    LockDateRequest,
    MatchRequest,
    PayablePaymentRequest,
    PaymentRequest,
    PayoutCsvRequest,
    PayoutImportRequest,
    RateRequest,
    ReverseRequest,
    SetupRequest,
    TakePaymentRequest,
    currency_code,
    parse_day,
)
from erp_finance.stock import book_pending_moves
from erp_orders.order import Order
from erp_sdk import (
    KernelDependency,
    NotFoundError,
    PrincipalDependency,
    ValidationError,
    body_operation,
    read_body,
    utcnow,
)

STATEMENT = {"permission": "finance.statement.read"}


def _day(value: str) -> dt.date:
    day = parse_day(value)
    assert day is not None
    return day


@post("/setup", sync_to_thread=True, status_code=201, operation_class=body_operation(SetupRequest),
      opt={"permission": "finance.books.setup"}, summary="Set up the books from a chart template")
def setup(body: RawBody, kernel: KernelDependency, principal: PrincipalDependency
          ) -> dict[str, Any]:
    data = read_body(SetupRequest, body)
    with kernel.context(principal) as ctx:
        books = setup_books(ctx.session, data.template, currency=currency_code(data.currency),
                            year=data.year, company_name=data.company_name,
                            tax_rounding=TaxRounding(data.tax_rounding))
        ctx.audit("finance.books", books.id, "setup", None,
                  {"template": data.template, "currency": books.currency})
        return {"template": books.template, "currency": books.currency,
                "company_name": books.company_name}


def _entry_json(ctx: Any, entry_id: int) -> dict[str, Any]:
    entry = ctx.session.get(Entry, entry_id)
    return {"id": entry.id, "name": entry.name, "number": entry.number, "date": entry.date,
            "currency": entry.currency, "ref": entry.ref, "hash": entry.hash,
            "reversal_of_id": entry.reversal_of_id,
            "lines": [{"account_id": line.account_id, "debit": line.debit,
                       "credit": line.credit, "amount_currency": line.amount_currency,
                       "label": line.label, "partner_id": line.partner_id,
                       "channel_id": line.channel_id, "warehouse_id": line.warehouse_id,
                       "order_id": line.order_id, "product_id": line.product_id}
                      for line in entry_lines(ctx.session, entry.id)]}


@post("/entries/post", sync_to_thread=True, status_code=201,
      operation_class=body_operation(EntryRequest), opt={"permission": "finance.entry.post"},
      summary="Post a balanced manual entry")
def post_manual_entry(body: RawBody, kernel: KernelDependency, principal: PrincipalDependency
                      ) -> dict[str, Any]:
    data = read_body(EntryRequest, body)
    with kernel.context(principal) as ctx:
        lines = [LineDraft(account_by_code(ctx.session, line.account).id, debit=line.debit,
                           credit=line.credit, amount=line.amount, label=line.label,
                           partner_id=line.partner_id, channel_id=line.channel_id,
                           warehouse_id=line.warehouse_id, order_id=line.order_id,
                           product_id=line.product_id) for line in data.lines]
        posted = post_entry(ctx.session, EntryDraft(
            data.journal, _day(data.date), lines, currency=currency_code(data.currency),
            ref=data.ref, origin="manual"))
        ctx.audit("finance.entry", posted.id, "post", None, {"name": posted.name})
        return _entry_json(ctx, posted.id)


@post("/entries/{entry_id:int}/reverse", sync_to_thread=True, status_code=201,
      operation_class=body_operation(ReverseRequest),
      opt={"permission": "finance.entry.reverse"}, summary="Post the reversal of an entry")
def reverse(entry_id: FromPath[int], body: RawBody, kernel: KernelDependency,
            principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(ReverseRequest, body)
    with kernel.context(principal) as ctx:
        posted = reverse_entry(ctx.session, entry_id, _day(data.date))
        ctx.audit("finance.entry", posted.id, "reverse", None, {"reversal_of_id": entry_id})
        return _entry_json(ctx, posted.id)


@get("/entries/{entry_id:int}/lines", sync_to_thread=True,
     opt={"permission": "finance.entry.read"}, summary="An entry with its lines")
def entry_with_lines(entry_id: FromPath[int], kernel: KernelDependency,
                     principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        if ctx.session.get(Entry, entry_id) is None:
            raise NotFoundError(f"finance.entry {entry_id} does not exist")
        return _entry_json(ctx, entry_id)


@post("/years/open", sync_to_thread=True, status_code=201,
      operation_class=body_operation(FiscalYearRequest),
      opt={"permission": "finance.period.close"}, summary="Open a fiscal year of 12 months")
def new_fiscal_year(body: RawBody, kernel: KernelDependency, principal: PrincipalDependency
                    ) -> dict[str, Any]:
    data = read_body(FiscalYearRequest, body)
    if not 1 <= data.start_month <= 12 or not 1900 <= data.year <= 9998:
        raise ValidationError("year 1900..9998 and start_month 1..12",
                              {"year": "out of range"})
    with kernel.context(principal) as ctx:
        year = create_fiscal_year(ctx.session, data.year, data.start_month)
        ensure_sequences(ctx.session)
        return {"id": year.id, "name": year.name, "start_date": year.start_date,
                "end_date": year.end_date}


@post("/years/{year_id:int}/close", sync_to_thread=True, status_code=200,
      opt={"permission": "finance.period.close"},
      summary="Close a fiscal year: income and expenses to retained earnings")
def close_year(year_id: FromPath[int], kernel: KernelDependency,
               principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        posted = close_fiscal_year(ctx, year_id)
        return {"closing_entry": posted.name if posted else None}


def _period_route(action: str, state: PeriodState, permission: str, summary: str) -> Any:
    @post(f"/periods/{{period_id:int}}/{action}", sync_to_thread=True, status_code=200,
          opt={"permission": permission},
          summary=summary, name=f"finance_period_{state.value}")
    def change(period_id: FromPath[int], kernel: KernelDependency,
               principal: PrincipalDependency) -> dict[str, Any]:
        with kernel.context(principal) as ctx:
            period = set_period_state(ctx, period_id, state)
            return {"id": period.id, "name": period.name, "state": period.state}

    return change


close_period = _period_route("close", PeriodState.CLOSED, "finance.period.close", "Close a period")
reopen_period = _period_route("reopen", PeriodState.OPEN, "finance.period.reopen",
                              "Reopen a closed period (managers)")
lock_period = _period_route("lock", PeriodState.LOCKED, "finance.period.lock",
                            "Lock a period for good")


@post("/lock-date", sync_to_thread=True, status_code=200,
      operation_class=body_operation(LockDateRequest),
      opt={"permission": "finance.period.close"}, summary="Nothing posts on or before it")
def lock_date(body: RawBody, kernel: KernelDependency, principal: PrincipalDependency
              ) -> dict[str, Any]:
    data = read_body(LockDateRequest, body)
    with kernel.context(principal) as ctx:
        set_lock_date(ctx, parse_day(data.date))
    return {"lock_date": data.date}


@post("/rates", sync_to_thread=True, status_code=201, operation_class=body_operation(RateRequest),
      opt={"permission": "finance.rate.write"}, summary="Enter an exchange rate")
def enter_rate(body: RawBody, kernel: KernelDependency, principal: PrincipalDependency
               ) -> dict[str, Any]:
    data = read_body(RateRequest, body)
    if data.rate <= 0:
        raise ValidationError("a rate is more than 0", {"rate": "must be > 0"})
    with kernel.context(principal) as ctx:
        set_rate(ctx.session, currency_code(data.currency), _day(data.date), data.rate)
    return {"currency": data.currency.upper(), "date": data.date, "rate": str(data.rate)}


def _payment_json(payment: Any) -> dict[str, Any]:
    return {"id": payment.id, "number": payment.number, "direction": payment.direction,
            "customer_id": payment.customer_id, "amount": payment.amount,
            "currency": payment.currency, "date": payment.date,
            "reference": payment.reference, "unmatched": payment.unmatched}


@post("/payments/record", sync_to_thread=True, status_code=201,
      operation_class=body_operation(PaymentRequest),
      opt={"permission": "finance.payment.record"},
      summary="Record a payment (and match it by its reference)")
def new_payment(body: RawBody, kernel: KernelDependency, principal: PrincipalDependency
                ) -> dict[str, Any]:
    data = read_body(PaymentRequest, body)
    with kernel.context(principal) as ctx:
        payment, matched = receive_payment(ctx.session, PaymentDraft(
            data.customer_id, data.amount, currency_code(data.currency), _day(data.date),
            PaymentDirection(data.direction), data.reference,
            AccountRole.BANK if data.account == "bank" else AccountRole.CASH),
            match=data.auto_match)
        ctx.audit("finance.payment", payment.id, "record", None, {"number": payment.number})
        return {**_payment_json(payment),
                "matches": [{"invoice_id": m.invoice_id, "amount": m.amount} for m in matched]}


@post("/payments/{payment_id:int}/match", sync_to_thread=True, status_code=201,
      operation_class=body_operation(MatchRequest),
      opt={"permission": "finance.payment.match"},
      summary="Match (part of) a payment with an invoice or credit note")
def match_payment(payment_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(MatchRequest, body)
    with kernel.context(principal) as ctx:
        matched = match(ctx.session, payment_id, data.invoice_id, data.amount)
        invoice = ctx.session.get(Invoice, data.invoice_id)
        return {"payment_id": payment_id, "invoice_id": data.invoice_id,
                "amount": matched.amount, "invoice_residual": invoice.residual}


@post("/invoices/{invoice_id:int}/take-payment", sync_to_thread=True, status_code=201,
      operation_class=body_operation(TakePaymentRequest),
      opt={"permission": "finance.payment.record"},
      summary="Take payment of an invoice through a payment provider")
def take_invoice_payment(invoice_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                         principal: PrincipalDependency) -> dict[str, Any]:
    from erp_finance.providers import take_payment

    data = read_body(TakePaymentRequest, body)
    return take_payment(kernel, principal, data.account, invoice_id, data.amount)


@post("/invoices/{invoice_id:int}/authorize", sync_to_thread=True, status_code=201,
      operation_class=body_operation(TakePaymentRequest),
      opt={"permission": "finance.payment.record"},
      summary="Have a provider authorise an invoice, to be captured by its notification")
def authorize_invoice_payment(invoice_id: FromPath[int], body: RawBody,
                              kernel: KernelDependency, principal: PrincipalDependency
                              ) -> dict[str, Any]:
    from erp_finance.providers import authorize_invoice

    data = read_body(TakePaymentRequest, body)
    return authorize_invoice(kernel, principal, data.account, invoice_id)


@post("/invoices/{invoice_id:int}/refund", sync_to_thread=True, status_code=201,
      opt={"permission": "finance.payment.record"},
      summary="Refund a credit note through the provider that took the invoice's money")
def refund_invoice(invoice_id: FromPath[int], kernel: KernelDependency,
                   principal: PrincipalDependency) -> dict[str, Any]:
    from erp_finance.providers import refund_credit_note

    return refund_credit_note(kernel, principal, invoice_id)


@post("/payables/{payable_id:int}/pay", sync_to_thread=True, status_code=201,
      operation_class=body_operation(PayablePaymentRequest),
      opt={"permission": "finance.payment.record"},
      summary="Pay (part of) a supplier bill or carrier invoice from the bank or cash")
def pay_a_payable(payable_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(PayablePaymentRequest, body)
    with kernel.context(principal) as ctx:
        paid = pay_payable(ctx.session, payable_id, data.amount, _day(data.date),
                           AccountRole.BANK if data.account == "bank" else AccountRole.CASH,
                           data.reference)
        payable = ctx.session.get(Payable, payable_id)
        ctx.audit("finance.payable", payable_id, "pay", None,
                  {"amount": f"{paid.amount:f}", "residual": f"{payable.residual:f}"})
        return {"payable_id": payable_id, "number": payable.number, "amount": paid.amount,
                "residual": payable.residual, "entry_id": paid.entry_id}


@get("/invoices/{invoice_id:int}/pdf", sync_to_thread=True,
     opt={"permission": "finance.invoice.read"}, media_type="application/pdf",
     summary="An invoice or credit note as a PDF document",
     description="Company, customer and billing address, number, dates, lines, taxes per"
                 " rate, totals, what is paid and open.")
def invoice_pdf(invoice_id: FromPath[int], kernel: KernelDependency,
                principal: PrincipalDependency) -> Response[bytes]:
    from erp_finance.invoice_pdf import MEDIA_TYPE, invoice_document, render_invoice_pdf

    with kernel.context(principal) as ctx:
        document = invoice_document(ctx.session, invoice_id)
    return Response(render_invoice_pdf(document), media_type=MEDIA_TYPE, headers={
        "Content-Disposition": f'inline; filename="{document["number"].replace("/", "-")}.pdf"'})


@post("/payouts/import", sync_to_thread=True, status_code=201,
      operation_class=body_operation(PayoutImportRequest),
      opt={"permission": "finance.payment.record"},
      summary="Import a payment account's payouts from its provider: split, post, match")
def import_payouts_from_provider(body: RawBody, kernel: KernelDependency,
                                 principal: PrincipalDependency) -> dict[str, Any]:
    from erp_finance.providers import import_provider_payouts

    data = read_body(PayoutImportRequest, body)
    return import_provider_payouts(kernel, principal, data.account, _day(data.since))


@post("/payouts/import-csv", sync_to_thread=True, status_code=201,
      operation_class=body_operation(PayoutCsvRequest),
      opt={"permission": "finance.payment.record"},
      summary="Import payouts from a marketplace's CSV report: split, post, match")
def import_payouts_from_csv(body: RawBody, kernel: KernelDependency,
                            principal: PrincipalDependency) -> dict[str, Any]:
    from erp_finance.payouts import import_payouts, payouts_from_csv
    from erp_finance.providers import PaymentAccount

    data = read_body(PayoutCsvRequest, body)
    payouts = payouts_from_csv(data.csv)
    with kernel.context(principal) as ctx:
        if ctx.session.scalar(sa.select(PaymentAccount.id).where(
                PaymentAccount.name == data.account)) is None:
            raise NotFoundError(f"no payment account {data.account!r}")
        result = import_payouts(ctx.session, data.account, payouts, "csv")
        for item in result["imported"]:
            ctx.audit("finance.payout", item["id"], "import", None,
                      {"payout_id": item["payout_id"], "amount": f"{item['amount']:f}"})
        return result


@get("/orders/{order_id:int}/billing", sync_to_thread=True,
     opt={"permission": "finance.invoice.read"},
     summary="An order's invoices and credit notes and what is paid")
def order_billing(order_id: FromPath[int], kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        if ctx.session.scalar(sa.select(Order.id).where(Order.id == order_id)) is None:
            raise NotFoundError(f"orders.order {order_id} does not exist")
        invoices = ctx.session.scalars(sa.select(Invoice).where(Invoice.order_id == order_id)
                                       .order_by(Invoice.id)).all()
    zero = Decimal(0)
    invoiced = sum((i.total for i in invoices if i.kind == "invoice"), zero) \
        - sum((i.total for i in invoices if i.kind == "credit_note"), zero)
    open_amount = sum((i.residual for i in invoices if i.kind == "invoice"), zero) \
        - sum((i.residual for i in invoices if i.kind == "credit_note"), zero)
    return {"order_id": order_id,
            "documents": [{"id": i.id, "number": i.number, "kind": i.kind, "date": i.date,
                           "currency": i.currency, "total": i.total, "residual": i.residual,
                           "state": i.state} for i in invoices],
            "invoiced": invoiced, "paid": invoiced - open_amount, "open": open_amount}


@post("/revaluations", sync_to_thread=True, status_code=201,
      operation_class=body_operation(ReverseRequest), opt={"permission": "finance.period.close"},
      summary="Revalue open foreign documents on a day; reversed on the next day")
def revalue(body: RawBody, kernel: KernelDependency, principal: PrincipalDependency
            ) -> dict[str, Any]:
    from erp_finance.revaluation import revalue_open_items

    data = read_body(ReverseRequest, body)
    with kernel.context(principal) as ctx:
        posted = revalue_open_items(ctx.session, _day(data.date))
        return {"entries": [entry.name for entry in posted]}


@post("/stock/book", sync_to_thread=True, status_code=200,
      opt={"permission": "finance.stock.book"}, summary="Book stock moves not booked yet")
def book_stock(kernel: KernelDependency, principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return {"booked": book_pending_moves(ctx.session)}


@get("/verify", sync_to_thread=True, opt=STATEMENT,
     summary="Recompute every journal's hash chain")
def verify(kernel: KernelDependency, principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        result = verify_chains(ctx.session)
    return {"ok": result.ok, "entries": result.entries,
            "breaks": [{"journal": b.journal, "fiscal_year": b.fiscal_year, "entry": b.entry,
                        "reason": b.reason} for b in result.breaks]}


def _filters(channel_id: int | None, warehouse_id: int | None, order_id: int | None,
             product_id: int | None) -> statements.Filters:
    return statements.Filters(channel_id, warehouse_id, order_id, product_id)


def _respond(name: str, statement: dict[str, Any], format: str) -> Any:
    if format == "json":
        return statement
    if format not in ("csv", "xlsx"):
        raise ValidationError("format is json, csv or xlsx", {"format": "unknown"})
    content, media_type = exports.export(statement, format)
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}.{format}"'})


@get("/statements/{name:str}", sync_to_thread=True, opt=STATEMENT,
     summary="A statement: trial-balance, profit-and-loss, balance-sheet, cash-flow,"
             " general-ledger, receivable-aging (aging), payable-aging, margins")
def statement(name: FromPath[str], kernel: KernelDependency, principal: PrincipalDependency,
              date_from: FromQuery[dt.date | None] = None,
              date_to: FromQuery[dt.date | None] = None,
              account: FromQuery[str | None] = None, by: FromQuery[str] = "order_id",
              channel_id: FromQuery[int | None] = None,
              warehouse_id: FromQuery[int | None] = None,
              order_id: FromQuery[int | None] = None, product_id: FromQuery[int | None] = None,
              format: FromQuery[str] = "json") -> Any:
    today = utcnow().date()
    last = date_to or today
    first = date_from or last.replace(month=1, day=1)
    if first > last:
        raise ValidationError("date_from is after date_to", {"date_from": "after date_to"})
    filters = _filters(channel_id, warehouse_id, order_id, product_id)
    with kernel.context(principal) as ctx:
        session = ctx.session
        if name == "trial-balance":
            result = statements.trial_balance(session, first, last, filters)
        elif name == "profit-and-loss":
            result = statements.profit_and_loss(session, first, last, filters)
        elif name == "balance-sheet":
            result = statements.balance_sheet(session, last, filters)
        elif name == "general-ledger":
            if not account:
                raise ValidationError("the general ledger needs ?account=CODE",
                                      {"account": "required"})
            result = statements.general_ledger(session, first, last, account, filters)
        elif name == "cash-flow":
            result = statements.cash_flow(session, first, last, filters)
        elif name in ("aging", "receivable-aging"):
            result = statements.receivable_aging(session, last)
        elif name == "payable-aging":
            result = statements.payable_aging(session, last)
        elif name == "margins":
            result = statements.margins(session, first, last, by, filters)
        else:
            raise NotFoundError(f"no statement {name!r}: trial-balance, profit-and-loss,"
                                " balance-sheet, cash-flow, general-ledger, receivable-aging"
                                " (aging), payable-aging, margins")
    return _respond(name, result, format)


ROUTES = [setup, post_manual_entry, reverse, entry_with_lines, new_fiscal_year, close_year,
          close_period, reopen_period, lock_period, lock_date, enter_rate, new_payment,
          match_payment, pay_a_payable, take_invoice_payment, authorize_invoice_payment,
          refund_invoice, invoice_pdf, import_payouts_from_provider, import_payouts_from_csv,
          order_billing, revalue, book_stock, verify, statement]
