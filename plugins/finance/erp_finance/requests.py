"""The typed bodies of finance's routes (and of its services called from Python)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from erp_sdk import (
    DecimalNumber,
    ListOf,
    Nested,
    ValidationError,
    boolean,
    identifier,
    money,
    text,
    typed_field,
)

CURRENCY = text(3)
DATE = text(10)


def parse_day(value: str | None, field: str = "date") -> dt.date | None:
    """An ISO date (``2026-12-31``), or a 422 naming the field."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field} must be a date as YYYY-MM-DD",
                              {field: "not a date"}) from None


def currency_code(value: str | None, field: str = "currency") -> str | None:
    if value is None:
        return None
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise ValidationError(f"{field} must be an ISO currency code such as EUR",
                              {field: "not a currency code"})
    return value.upper()


@attrs.frozen
class SetupRequest:
    """Load a chart template, the journals and a first fiscal year."""

    template: str = typed_field(text(20, choices=["generic", "cn-small"]))
    currency: str = typed_field(CURRENCY)
    year: int = typed_field(identifier())
    company_name: str = typed_field(text(200), default="My company")
    tax_rounding: str = typed_field(text(16, choices=["per_line", "per_document"]),
                                    default="per_line")


@attrs.frozen
class EntryLineRequest:
    """A line by account code: a debit or a credit (cents), ``amount`` in the entry's
    currency when that is not the functional one."""

    account: str = typed_field(text(20))
    debit: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    credit: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    amount: Decimal | None = typed_field(money(), default=None, nullable=True)
    label: str | None = typed_field(text(200), default=None, nullable=True)
    partner_id: int | None = typed_field(identifier(), default=None, nullable=True)
    channel_id: int | None = typed_field(identifier(), default=None, nullable=True)
    warehouse_id: int | None = typed_field(identifier(), default=None, nullable=True)
    order_id: int | None = typed_field(identifier(), default=None, nullable=True)
    product_id: int | None = typed_field(identifier(), default=None, nullable=True)


@attrs.frozen
class EntryRequest:
    journal: str = typed_field(text(8))
    date: str = typed_field(DATE)
    lines: tuple[EntryLineRequest, ...] = typed_field(ListOf(Nested(EntryLineRequest),
                                                             min_items=2))
    currency: str | None = typed_field(CURRENCY, default=None, nullable=True)
    ref: str | None = typed_field(text(120), default=None, nullable=True)


@attrs.frozen
class ReverseRequest:
    date: str = typed_field(DATE)


@attrs.frozen
class FiscalYearRequest:
    year: int = typed_field(identifier())
    start_month: int = typed_field(identifier(), default=1)


@attrs.frozen
class LockDateRequest:
    """Nothing posts on or before ``date``; null lifts the lock (managers only)."""

    date: str | None = typed_field(DATE, nullable=True)


@attrs.frozen
class RateRequest:
    currency: str = typed_field(CURRENCY)
    date: str = typed_field(DATE)
    rate: Decimal = typed_field(DecimalNumber(
        precision=20, scale=10, minimum=0, description="Functional units for one unit of the"
                                                        " currency, more than 0"))


@attrs.frozen
class PaymentRequest:
    """A payment received from (or made to) a customer; ``account`` ``bank`` or ``cash``;
    ``auto_match`` matches it with the document its reference names."""

    customer_id: int = typed_field(identifier())
    amount: Decimal = typed_field(money("positive"))
    currency: str = typed_field(CURRENCY)
    date: str = typed_field(DATE)
    direction: str = typed_field(text(16, choices=["received", "paid"]), default="received")
    account: str = typed_field(text(8, choices=["bank", "cash"]), default="bank")
    reference: str | None = typed_field(text(120), default=None, nullable=True)
    auto_match: bool = typed_field(boolean(), default=True)


@attrs.frozen
class PayablePaymentRequest:
    """Pay a payable (all that is open when ``amount`` is null) from ``bank`` or ``cash``."""

    date: str = typed_field(DATE)
    amount: Decimal | None = typed_field(money("positive"), default=None, nullable=True)
    account: str = typed_field(text(8, choices=["bank", "cash"]), default="bank")
    reference: str | None = typed_field(text(120), default=None, nullable=True)


@attrs.frozen
class PayoutImportRequest:
    """Import a payment account's payouts arriving on or after ``since`` from its
    provider."""

    account: str = typed_field(text(60))
    since: str = typed_field(DATE)


@attrs.frozen
class PayoutCsvRequest:
    """Import payouts from a marketplace's CSV report (see the finance docs for its
    columns), booked on the payment account ``account``."""

    account: str = typed_field(text(60))
    csv: str = typed_field(text(5_000_000))


@attrs.frozen
class MatchRequest:
    invoice_id: int = typed_field(identifier())
    amount: Decimal | None = typed_field(money("positive"), default=None, nullable=True)


@attrs.frozen
class TakePaymentRequest:
    """Take (part of) an invoice's open amount through a payment account's provider."""

    account: str = typed_field(text(60))
    amount: Decimal | None = typed_field(money("positive"), default=None, nullable=True)
