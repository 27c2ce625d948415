"""Driver protocols and the value objects they exchange with the ERP.

A driver is a class registered under an entry-point namespace (``erp.carriers``,
``erp.payment_providers``, ``erp.sales_channels``, ``erp.event_sinks``,
``erp.exchange_rate_sources``) and built by the
kernel as ``DriverClass(settings=..., secrets=...)`` from a configured account. Drivers
speak only in these value objects: money and quantities are ``Decimal``, times are aware
UTC datetimes, countries are ISO 3166-1 alpha-2 codes, currencies ISO 4217 codes.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import attrs

from erp_core.entities.typed import money, quantity, rate, typed_field
from erp_core.errors import AuthenticationRequired, ErpError
from erp_core.events import signing as _signing
from erp_core.events.delivery import OutboundEvent


def _decimal(value: object) -> Decimal:
    if isinstance(value, float):
        raise TypeError("use Decimal (or a string), never float, for money and quantities")
    return value if isinstance(value, Decimal) else Decimal(str(value))


_optional_decimal = attrs.converters.optional(_decimal)


def _tuple(value: object) -> tuple[Any, ...]:
    return tuple(value)  # type: ignore[call-overload]


def _lower_keys(value: Mapping[str, str]) -> Mapping[str, str]:
    return {k.lower(): v for k, v in value.items()}


# -- errors ------------------------------------------------------------------------------


class WebhookRejected(AuthenticationRequired):
    """An inbound webhook failed its signature or freshness check (answered 401)."""

    title = "Webhook rejected"


class DriverFailure(ErpError):
    """The remote service behind a driver failed or refused (answered 502)."""

    status_code = 502
    title = "Driver failure"


class OutcomeUnknown(DriverFailure):
    """The remote service may or may not have done what it was asked: the call timed out,
    the connection broke, or it answered with a server error. Whoever called must find
    out by asking it (``Carrier.find_shipment``), never by asking again to act."""

    title = "Outcome unknown"


# -- shared values -----------------------------------------------------------------------


@attrs.frozen
class Amount:
    """An amount of money in a currency."""

    value: Decimal = attrs.field(converter=_decimal)
    currency: str = attrs.field(converter=str.upper)


@attrs.frozen
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str = attrs.field(converter=str.upper)
    line2: str = ""
    region: str = ""
    phone: str = ""
    email: str = ""


@attrs.frozen
class WebhookRequest:
    """An inbound HTTP request as a driver needs it: header names in lower case, raw body."""

    headers: Mapping[str, str] = attrs.field(converter=_lower_keys)
    body: bytes


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``body``, the signature scheme most webhooks use."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_hmac_sha256(secret: str, body: bytes, signature: str | None) -> None:
    """Raise ``WebhookRejected`` unless ``signature`` (hex, optional ``sha256=`` prefix)
    is the HMAC-SHA256 of ``body``; compared in constant time."""
    if not signature:
        raise WebhookRejected("the webhook has no signature")
    given = signature.removeprefix("sha256=").strip()
    if not hmac.compare_digest(given, hmac_sha256_hex(secret, body)):
        raise WebhookRejected("the webhook signature does not match")


WEBHOOK_TIMESTAMP_HEADER = _signing.TIMESTAMP_HEADER
"""The header of a signed webhook that holds its Unix timestamp (``ERP-Webhook-Timestamp``)."""
WEBHOOK_SIGNATURE_HEADER = _signing.SIGNATURE_HEADER
"""The header of a signed webhook that holds ``sha256=<hex>`` (``ERP-Webhook-Signature``)."""
DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300
"""How far a signed webhook's timestamp may be from the receiver's clock, by default."""

_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def sign_webhook(secret: str, body: bytes, *, timestamp: int | None = None,
                 timestamp_header: str = WEBHOOK_TIMESTAMP_HEADER,
                 signature_header: str = WEBHOOK_SIGNATURE_HEADER) -> dict[str, str]:
    """The two headers that sign ``body`` with ``secret``: the timestamp (now unless given)
    and ``sha256=`` + the hex HMAC-SHA256 of ``b"<timestamp>." + body``. The ERP's webhook
    deliveries are signed this way; a driver may name its provider's headers instead."""
    return _signing.signature_headers(secret, body, timestamp=timestamp,
                                      timestamp_header=timestamp_header,
                                      signature_header=signature_header)


def verify_signed_webhook(secret: str, headers: Mapping[str, str], body: bytes,
                          now: float | None = None,
                          tolerance: float = DEFAULT_WEBHOOK_TOLERANCE_SECONDS, *,
                          timestamp_header: str = WEBHOOK_TIMESTAMP_HEADER,
                          signature_header: str = WEBHOOK_SIGNATURE_HEADER) -> int:
    """Check that ``body`` was signed by ``sign_webhook`` with ``secret`` within
    ``tolerance`` seconds of ``now`` (default: this machine's clock); return the signed
    timestamp, or raise ``WebhookRejected`` saying why.

    ``headers`` may use any letter case. The signature is compared in constant time and
    checked before the clock, so a forged request is never told that only its timestamp
    is wrong. The timestamp is signed, so a captured request cannot be replayed later.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    raw_stamp = lowered.get(timestamp_header.lower())
    signature = lowered.get(signature_header.lower())
    if not signature:
        raise WebhookRejected(f"the request has no {signature_header} header")
    if raw_stamp is None:
        raise WebhookRejected(f"the request has no {timestamp_header} header")
    if not _UNIX_SECONDS.fullmatch(raw_stamp.strip()):
        raise WebhookRejected(f"the {timestamp_header} header is not a time in Unix seconds")
    stamp = int(raw_stamp)
    verify_hmac_sha256(secret, _signing.signed_payload(stamp, body), signature)
    age = (time.time() if now is None else now) - stamp
    if age > tolerance:
        raise WebhookRejected(
            f"the request was signed {age:.0f} s ago, more than the {tolerance:g} s"
            " allowed; a late retry must be signed again (or this is a replay)")
    if -age > tolerance:
        raise WebhookRejected(
            f"the request's timestamp is {-age:.0f} s in the future, more than the"
            f" {tolerance:g} s allowed; check the sender's clock")
    return stamp


# -- carriers ----------------------------------------------------------------------------


@attrs.frozen
class Parcel:
    weight_kg: Decimal = attrs.field(converter=_decimal)
    length_cm: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    width_cm: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    height_cm: Decimal | None = attrs.field(default=None, converter=_optional_decimal)


@attrs.frozen
class CustomsLine:
    """What one line of a cross-border parcel holds, as a customs declaration needs it:
    ``value`` is the declared value of the whole line, ``origin_country`` ISO 3166-1."""

    description: str
    quantity: Decimal = attrs.field(converter=_decimal)
    value: Amount
    hs_code: str = ""
    origin_country: str = attrs.field(default="", converter=str.upper)
    weight_kg: Decimal | None = attrs.field(default=None, converter=_optional_decimal)


@attrs.frozen
class ShipmentRequest:
    """What to ship: ``reference`` is the ERP's shipment or order reference.

    ``idempotency_key`` names this purchase: a carrier that is asked twice with the same
    key books once and answers the same label (send it to the carrier's API where it takes
    one), and ``find_shipment`` finds the purchase by it. ``is_return``: a return label,
    from the customer (``sender``) back to the seller (``recipient``)."""

    reference: str
    sender: Address
    recipient: Address
    parcels: tuple[Parcel, ...] = attrs.field(converter=_tuple)
    service: str | None = None
    idempotency_key: str | None = None
    customs: tuple[CustomsLine, ...] = attrs.field(default=(), converter=_tuple)
    is_return: bool = False


@attrs.frozen
class RateQuote:
    carrier: str
    service: str
    amount: Amount
    transit_days: int | None = None


@attrs.frozen
class ShipmentLabel:
    tracking_number: str
    service: str
    amount: Amount | None = None
    label: bytes | None = None
    label_format: str = "pdf"


class TrackingStatus(enum.StrEnum):
    """The normalised status of a parcel: ``pending`` is pre-transit (labelled, not yet
    collected), ``returned`` is on its way back to (or back at) the sender."""

    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    EXCEPTION = "exception"
    RETURNED = "returned"


@attrs.frozen
class TrackingEvent:
    """One scan of a parcel. ``event_id`` is the carrier's id of the event (empty: the
    ERP derives one from the other fields), ``raw`` what the carrier said, as it said it
    (JSON values), kept beside the normalised ``status``."""

    tracking_number: str
    status: TrackingStatus = attrs.field(converter=TrackingStatus)
    at: dt.datetime
    location: str = ""
    description: str = ""
    event_id: str = ""
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)


@runtime_checkable
class Carrier(Protocol):
    """A parcel carrier (namespace ``erp.carriers``)."""

    def quote(self, request: ShipmentRequest) -> Sequence[RateQuote]:
        """Prices for shipping ``request``, cheapest first; empty when it cannot ship it."""

    def create_shipment(self, request: ShipmentRequest) -> ShipmentLabel:
        """Book the shipment and return its tracking number (and label)."""

    def track(self, tracking_number: str) -> Sequence[TrackingEvent]:
        """Every known tracking event of a shipment, oldest first."""

    def parse_tracking_webhook(self, request: WebhookRequest) -> Sequence[TrackingEvent]:
        """The tracking events in a webhook the carrier sent; raises ``WebhookRejected``
        when it is not authentic."""

    def find_shipment(self, idempotency_key: str) -> ShipmentLabel | None:
        """The label bought with ``idempotency_key`` (see ``ShipmentRequest``), or
        ``None`` when the carrier has none: how a purchase whose answer was lost
        (``OutcomeUnknown``) is resolved without buying again."""

    def void_shipment(self, tracking_number: str) -> None:
        """Cancel an unused label so it is not charged; ``DriverFailure`` when the carrier
        refuses (a parcel already collected)."""


@attrs.frozen
class FreightInvoiceLine:
    """One charge of a carrier's invoice: the parcel it is for and what it costs."""

    tracking_number: str
    amount: Amount
    description: str = ""


@attrs.frozen
class FreightInvoice:
    """A carrier's invoice for shipping, as its API reports it."""

    number: str
    invoice_date: dt.date
    currency: str = attrs.field(converter=str.upper)
    lines: tuple[FreightInvoiceLine, ...] = attrs.field(converter=_tuple)


@runtime_checkable
class CarrierInvoices(Protocol):
    """A carrier whose API lists its invoices (optional, beside ``Carrier``)."""

    def fetch_invoices(self, since: dt.date) -> Sequence[FreightInvoice]:
        """The invoices issued on or after ``since``, oldest first."""


# -- payment providers -------------------------------------------------------------------


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    VOIDED = "voided"
    FAILED = "failed"


@attrs.frozen
class PaymentRequest:
    reference: str
    amount: Amount
    customer_reference: str | None = None
    description: str = ""


@attrs.frozen
class PaymentResult:
    """A provider's answer; ``provider_reference`` identifies the payment there."""

    provider_reference: str
    status: PaymentStatus = attrs.field(converter=PaymentStatus)
    amount: Amount
    message: str = ""


@attrs.frozen
class PaymentNotification:
    """A payment's status change the provider pushed. ``event_id`` is the provider's id of
    the event, by which a notification sent again is recognised (empty: the body's hash
    stands for it)."""

    provider_reference: str
    status: PaymentStatus = attrs.field(converter=PaymentStatus)
    amount: Amount
    at: dt.datetime
    event_id: str = ""


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment provider (namespace ``erp.payment_providers``)."""

    def authorize(self, request: PaymentRequest) -> PaymentResult:
        """Reserve the amount (or record the promise to pay)."""

    def capture(self, provider_reference: str, amount: Amount) -> PaymentResult:
        """Take (part of) an authorized amount."""

    def refund(self, provider_reference: str, amount: Amount) -> PaymentResult:
        """Give back (part of) a captured amount."""

    def parse_notification(self, request: WebhookRequest) -> PaymentNotification:
        """A payment status change the provider sent; raises ``WebhookRejected`` when it is
        not authentic."""


class PayoutLineKind(enum.StrEnum):
    """What a line of a payout is: money the provider took for the seller (``sale``), gave
    back to a buyer (``refund``), charged (``fee``), held back (``reserve``: negative) or
    let go of a reserve held before (``reserve_release``: positive), or anything else it
    booked (``adjustment``)."""

    SALE = "sale"
    REFUND = "refund"
    FEE = "fee"
    RESERVE = "reserve"
    RESERVE_RELEASE = "reserve_release"
    ADJUSTMENT = "adjustment"


@attrs.frozen
class PayoutLine:
    """One line of a payout, signed as it moves the seller's money: a sale and a reserve
    release positive, a refund, a fee and a reserve negative. ``payment_reference`` is the
    provider's reference of the payment it concerns (as ``PaymentResult`` gave it), when
    it concerns one; ``order_reference`` the seller's reference the payment was made for
    (``PaymentRequest.reference``: an invoice or order number), when the provider knows it."""

    kind: PayoutLineKind = attrs.field(converter=PayoutLineKind)
    amount: Decimal = attrs.field(converter=_decimal)
    payment_reference: str = ""
    order_reference: str = ""
    description: str = ""


@attrs.frozen
class Payout:
    """A transfer from a provider or marketplace to the seller's bank: its lines add up to
    ``amount``, the money that arrives."""

    payout_id: str
    arrival_date: dt.date
    currency: str = attrs.field(converter=str.upper)
    amount: Decimal = attrs.field(converter=_decimal)
    lines: tuple[PayoutLine, ...] = attrs.field(converter=_tuple)


@runtime_checkable
class PaymentPayouts(Protocol):
    """A payment provider whose API lists its payouts (optional, beside
    ``PaymentProvider``)."""

    def fetch_payouts(self, since: dt.date) -> Sequence[Payout]:
        """The payouts arriving on or after ``since``, oldest first."""


# -- sales channels ----------------------------------------------------------------------


@attrs.frozen
class ChannelCustomer:
    external_id: str
    name: str
    email: str = ""
    phone: str = ""


@attrs.frozen
class ChannelOrderLine:
    """A line as a channel reports it, checked by the ERP's field types when it is built:
    a positive quantity, a price and a discount that are not negative, ``tax_rate`` a
    fraction from 0 to 1 (0.19 is 19 %); a bad value is a ``ValidationError``."""

    sku: str
    quantity: Decimal = typed_field(quantity("positive"))
    unit_price: Decimal = typed_field(money("non_negative"))
    discount: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    tax_rate: Decimal = typed_field(rate(), default=Decimal(0))


@attrs.frozen
class ChannelOrder:
    """An order as a channel reports it; ``external_reference`` is unique per channel."""

    external_reference: str
    placed_at: dt.datetime
    currency: str = attrs.field(converter=str.upper)
    customer: ChannelCustomer
    shipping_address: Address
    lines: tuple[ChannelOrderLine, ...] = attrs.field(converter=_tuple)
    billing_address: Address | None = None
    shipping_amount: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    notes: str = ""


@attrs.frozen
class OrderBatch:
    """A page of orders and the cursor to pass to the next ``fetch_orders`` call."""

    orders: tuple[ChannelOrder, ...] = attrs.field(converter=_tuple)
    next_cursor: str | None = None


@attrs.frozen
class StockLevel:
    sku: str
    available: Decimal = attrs.field(converter=_decimal)


@attrs.frozen
class ShipmentNotice:
    external_reference: str
    carrier: str
    tracking_number: str
    shipped_at: dt.datetime


@runtime_checkable
class SalesChannel(Protocol):
    """A shop or marketplace that sends orders (namespace ``erp.sales_channels``)."""

    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        """Orders placed since ``cursor`` (``None``: from the beginning)."""

    def parse_order_webhook(self, request: WebhookRequest) -> Sequence[ChannelOrder]:
        """Orders the channel pushed; raises ``WebhookRejected`` when not authentic."""

    def push_stock(self, levels: Sequence[StockLevel]) -> None:
        """Tell the channel how many units of each SKU it may sell."""

    def push_shipment(self, notice: ShipmentNotice) -> None:
        """Tell the channel an order shipped, with its tracking number."""


# -- event sinks -------------------------------------------------------------------------


@runtime_checkable
class EventSink(Protocol):
    """A message broker or bus that receives domain events (namespace ``erp.event_sinks``).

    ``erp worker`` builds the sink of each configured account (``erp sinks add``) and
    hands it every matching event, at least once: an event whose ``publish`` raised is
    handed again after a pause that doubles with each attempt, and dead-lettered (kept,
    with its error, for a replay) after the configured number of attempts. ``event.id``
    is stable across attempts, so consumers deduplicate by it. Events of one record reach
    the sink in the order they happened. A sink may also define
    ``publish_batch(events)``, which the worker then calls with many events at once
    (each record's in order); when it raises, the worker falls back to ``publish`` one
    event at a time, so one bad event does not hold back the others.
    """

    def publish(self, event: OutboundEvent) -> None:
        """Deliver one event, returning once the broker has it; raise (anything) to have
        it retried later."""


# -- exchange-rate sources ---------------------------------------------------------------


@attrs.frozen
class FetchedRate:
    """One rate a source publishes for a day: ``rate`` units of the quote currency asked
    for per unit of ``currency``. Never a float: pass a ``Decimal`` or the feed's string."""

    currency: str = attrs.field(converter=str.upper)
    rate: Decimal = attrs.field(converter=_decimal)


@runtime_checkable
class ExchangeRateSource(Protocol):
    """A published feed of daily exchange rates, such as a central bank's reference rates
    (namespace ``erp.exchange_rate_sources``).

    The kernel's job ``kernel.fetch_exchange_rates`` (and ``erp rates fetch``) builds the
    source of each active ``kernel.exchange_rate_source`` account and stores what
    ``fetch`` returns as that day's rates, with the driver's name as their ``source``.
    A day's rates are kept all or none: when ``fetch`` raises, or returns a rate that is
    not a positive number, nothing of that source is written for the day.
    """

    def fetch(self, day: dt.date, quote_currency: str) -> Sequence[FetchedRate]:
        """The rates the source publishes for ``day`` in ``quote_currency`` (an ISO code),
        empty when it published none that day (a weekend, a holiday); ``DriverFailure``
        when the feed cannot be read or does not quote ``quote_currency``."""


DRIVER_PROTOCOLS: Mapping[str, type] = {
    "carrier": Carrier,
    "payment_provider": PaymentProvider,
    "sales_channel": SalesChannel,
    "event_sink": EventSink,
    "exchange_rate_source": ExchangeRateSource,
}
"""Driver kind -> the protocol its drivers implement."""
