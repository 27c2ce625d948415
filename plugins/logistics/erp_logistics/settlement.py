"""Freight settlement: carrier invoices imported (a CSV file, or the driver), matched
line by line to the packages they bill, and approved for payment.

The CSV format, one row per charge, a header row first, comma separated, UTF-8::

    invoice_number,invoice_date,currency,tracking_number,amount,description
    INV-2026-11,2026-11-30,EUR,SP000123,7.40,standard parcel

``invoice_date`` is ISO (``YYYY-MM-DD``), ``amount`` a decimal with a dot; rows of several
invoices may share a file. Each line is matched by tracking number to a package labelled
through the same carrier account; it keeps the quoted amount (what the label cost when it
was bought) and the difference. A line is flagged ``no_shipment`` (no package has the
tracking number; its quoted amount is then 0), ``duplicate`` (the parcel is billed
twice), ``no_quote`` or
``over_tolerance`` (billed and quoted differ by more than the tolerance); an invoice with
flagged lines is approved only once each is reviewed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from erp_logistics.carriers import CarrierAccount
from erp_logistics.freight import CarrierInvoice, CarrierInvoiceLine, InvoiceState
from erp_logistics.shipment import Package, Shipment
from erp_sdk import (
    ConflictError,
    Context,
    NotFoundError,
    TransitionEvent,
    TransitionVetoed,
    ValidationError,
    check_value,
    money,
    on_transition,
)
from erp_sdk.drivers import Amount as DriverAmount
from erp_sdk.drivers import FreightInvoice, FreightInvoiceLine

CSV_COLUMNS = ("invoice_number", "invoice_date", "currency", "tracking_number", "amount",
               "description")


def read_invoice_csv(text: str) -> list[FreightInvoice]:
    """The invoices of a CSV file in the documented format; ``ValidationError`` naming
    each bad row."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:5] if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"the CSV lacks the column(s) {', '.join(missing)}; its header"
                              f" must be {','.join(CSV_COLUMNS)}", {"csv": "bad header"})
    invoices: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for number, row in enumerate(reader, start=2):
        try:
            amount = check_value("amount", money(), Decimal((row["amount"] or "").strip()))
            date = dt.date.fromisoformat((row["invoice_date"] or "").strip())
        except (InvalidOperation, ValueError, ValidationError) as exc:
            errors[f"csv.row{number}"] = f"bad amount or date: {exc}"[:200]
            continue
        invoice_number = (row["invoice_number"] or "").strip()
        tracking = (row["tracking_number"] or "").strip()
        currency = (row["currency"] or "").strip().upper()
        if not invoice_number or not tracking or len(currency) != 3:
            errors[f"csv.row{number}"] = "invoice_number, tracking_number and a 3-letter" \
                                         " currency are required"
            continue
        invoice = invoices.setdefault(invoice_number, {"date": date, "currency": currency,
                                                       "lines": []})
        invoice["lines"].append(FreightInvoiceLine(
            tracking, DriverAmount(amount, currency), (row.get("description") or "").strip()))
    if errors:
        raise ValidationError(f"{len(errors)} row(s) of the CSV are invalid", errors)
    if not invoices:
        raise ValidationError("the CSV has no rows", {"csv": "empty"})
    return [FreightInvoice(number, values["date"], values["currency"], values["lines"])
            for number, values in invoices.items()]


def import_invoices(ctx: Context, account_id: int, invoices: Sequence[FreightInvoice],
                    tolerance: Decimal) -> list[dict[str, Any]]:
    """Record and match the invoices of a carrier account; an invoice number already
    imported for the account is refused (409), so importing a file twice changes nothing."""
    ctx.principal.require("logistics.carrier_invoice.import")
    account = ctx.session.get(CarrierAccount, account_id)
    if account is None:
        raise NotFoundError(f"logistics.carrier_account {account_id} does not exist")
    created = []
    for invoice in invoices:
        if ctx.session.scalar(sa.select(CarrierInvoice.id).where(
                CarrierInvoice.carrier_account_id == account_id,
                CarrierInvoice.number == invoice.number)) is not None:
            raise ConflictError(f"invoice {invoice.number} of {account.name} is already"
                                " imported")
        record = CarrierInvoice(number=invoice.number, carrier_account_id=account_id,
                                carrier=account.name, currency=invoice.currency,
                                invoice_date=invoice.invoice_date, tolerance=tolerance,
                                state=InvoiceState.DRAFT, version=1)
        ctx.session.add(record)
        ctx.session.flush()
        _match(ctx, record, invoice.lines)
        ctx.audit("logistics.carrier_invoice", record.id, "import", None,
                  {"number": record.number, "total": str(record.total),
                   "flagged_lines": record.flagged_lines})
        created.append(ctx.records("logistics.carrier_invoice").get(record.id))
    return created


def _already_billed(ctx: Context, account_id: int, invoice_id: int) -> set[str]:
    return set(ctx.session.scalars(
        sa.select(CarrierInvoiceLine.tracking_number)
        .join(CarrierInvoice, CarrierInvoice.id == CarrierInvoiceLine.invoice_id)
        .where(CarrierInvoice.carrier_account_id == account_id,
               CarrierInvoice.id != invoice_id,
               CarrierInvoice.state != InvoiceState.CANCELLED)))


def _match(ctx: Context, invoice: CarrierInvoice, lines: Sequence[FreightInvoiceLine]) -> None:
    numbers = [line.tracking_number for line in lines]
    packages = {row.tracking_number: row for row in ctx.session.execute(
        sa.select(Package.tracking_number, Package.label_amount, Package.shipment_id,
                  Shipment.order_id)
        .join(Shipment, Shipment.id == Package.shipment_id)
        .where(Package.tracking_number.in_(numbers),
               Shipment.carrier_account_id == invoice.carrier_account_id))}
    billed_before = _already_billed(ctx, invoice.carrier_account_id, invoice.id)
    seen: set[str] = set()
    total = quoted_total = Decimal(0)
    flagged = 0
    for line in lines:
        package = packages.get(line.tracking_number)
        quoted = package.label_amount if package is not None else None
        if package is None:
            flag = "no_shipment"
        elif line.tracking_number in seen or line.tracking_number in billed_before:
            flag = "duplicate"
        elif quoted is None:
            flag = "no_quote"
        elif abs(line.amount.value - quoted) > invoice.tolerance:
            flag = "over_tolerance"
        else:
            flag = None
        # Nothing quoted (or a parcel billed again) is a quote of zero: the whole charge is
        # variance (finance books quoted and billed amounts as decimals); the flag says why.
        quoted = quoted if quoted is not None and flag != "duplicate" else Decimal(0)
        difference = line.amount.value - quoted
        seen.add(line.tracking_number)
        flagged += flag is not None
        total += line.amount.value
        quoted_total += quoted
        ctx.session.add(CarrierInvoiceLine(
            invoice_id=invoice.id, tracking_number=line.tracking_number,
            shipment_id=package.shipment_id if package else None,
            order_id=package.order_id if package else None, billed_amount=line.amount.value,
            quoted_amount=quoted, difference=difference, flag=flag,
            description=line.description[:200] or None, version=1))
    invoice.total = total
    invoice.quoted_total = quoted_total
    invoice.flagged_lines = flagged
    ctx.session.flush()


@on_transition("logistics.carrier_invoice", "approve", when="before")
def flagged_lines_are_reviewed_first(ctx: Context, event: TransitionEvent) -> None:
    unreviewed = ctx.session.scalar(sa.select(sa.func.count()).select_from(CarrierInvoiceLine)
                                    .where(CarrierInvoiceLine.invoice_id == event.record_id,
                                           CarrierInvoiceLine.flag.is_not(None),
                                           CarrierInvoiceLine.reviewed.is_(False)))
    if unreviewed:
        raise TransitionVetoed(f"invoice {event.record['number']} has {unreviewed} flagged"
                               " line(s) not reviewed: review each (reviewed=true) first")
