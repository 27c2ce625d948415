"""The promotions' own routes: dry runs, explanations, simulations, coupon batches and
results (the entities have their generic routes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import sqlalchemy as sa
from litestar import get, post
from litestar.params import FromPath, RawBody

from erp_inventory.catalogue import Product
from erp_orders.pricing import Cart, cart_lines
from erp_promotions.coupon import create_batch
from erp_promotions.explain import dry_run, order_explanation
from erp_promotions.report import promotion_results
from erp_promotions.simulation import simulate
from erp_sdk import (
    Integer,
    KernelDependency,
    ListOf,
    Nested,
    PrincipalDependency,
    ValidationError,
    body_operation,
    identifier,
    money,
    quantity,
    rate,
    read_body,
    text,
    typed_field,
    utcnow,
)


@attrs.frozen
class CartLineBody:
    """A line of a cart to try: ``unit_price`` defaults to the product's list price."""

    product_id: int = typed_field(identifier())
    quantity: Decimal = typed_field(quantity("positive"))
    unit_price: Decimal | None = typed_field(money("non_negative"), default=None,
                                             nullable=True)
    discount: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    tax_rate: Decimal = typed_field(rate(), default=Decimal(0))


@attrs.frozen
class DryRun:
    """A cart to evaluate without placing it; ``at`` (ISO date-time with offset) is when
    it would be placed, now by default."""

    channel_id: int = typed_field(identifier())
    customer_id: int = typed_field(identifier())
    lines: tuple[CartLineBody, ...] = typed_field(ListOf(Nested(CartLineBody), min_items=1,
                                                         max_items=500))
    currency: str = typed_field(text(3), default="EUR")
    shipping_amount: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    coupon_codes: tuple[str, ...] = typed_field(ListOf(text(64), max_items=10), default=())
    at: str | None = typed_field(text(40), default=None, nullable=True)


@attrs.frozen
class BatchRequest:
    """Codes to generate from a pattern (``#`` a digit, ``?`` a letter)."""

    pattern: str = typed_field(text(64))
    count: int = typed_field(Integer(bits=32, minimum=1))
    usage_limit: int | None = typed_field(Integer(bits=32, minimum=1), default=None,
                                          nullable=True)


@attrs.frozen
class SimulationRequest:
    """The local dates (``YYYY-MM-DD``, inclusive) of the orders to run the promotion on."""

    start: str = typed_field(text(10))
    end: str = typed_field(text(10))
    timezone: str = typed_field(text(64), default="UTC")


def _moment(text_value: str | None) -> dt.datetime:
    if text_value is None:
        return utcnow()
    try:
        moment = dt.datetime.fromisoformat(text_value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationError("at must be an ISO date-time with its offset",
                              {"at": "not an ISO date-time with offset"})
    return moment.astimezone(dt.UTC)


def _date(field: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field} must be a date (YYYY-MM-DD)",
                              {field: "not a date"}) from None


@post("/dry-run", sync_to_thread=True, status_code=200,
      opt={"permission": "promotions.promotion.read"}, operation_class=body_operation(DryRun),
      summary="Which promotions a cart gets, what each takes off, and why others do not")
def dry_run_route(body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(DryRun, body)
    with kernel.context(principal) as ctx:
        prices = dict(ctx.session.execute(sa.select(Product.id, Product.list_price).where(
            Product.id.in_(sorted({line.product_id for line in data.lines})))).all())
        missing = sorted({line.product_id for line in data.lines} - set(prices))
        if missing:
            raise ValidationError(f"unknown products: {missing}", {"lines": "unknown product"})
        rows = [{"product_id": line.product_id, "quantity": line.quantity,
                 "unit_price": prices[line.product_id] if line.unit_price is None
                 else line.unit_price, "discount": line.discount, "tax_rate": line.tax_rate}
                for line in data.lines]
        cart = Cart(data.channel_id, data.customer_id, data.currency.upper(),
                    _moment(data.at), cart_lines(ctx.session, rows), data.shipping_amount,
                    data.coupon_codes)
        return dry_run(ctx, cart)


@get("/orders/{order_id:int}/explanation", sync_to_thread=True,
     opt={"permission": "promotions.promotion.read"},
     summary="Which promotions discounted each line of an order, and by how much")
def explanation(order_id: FromPath[int], kernel: KernelDependency,
                principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return order_explanation(ctx, order_id)


@post("/promotions/{promotion_id:int}/coupon-batches", sync_to_thread=True,
      opt={"permission": "promotions.coupon.create"}, operation_class=body_operation(BatchRequest),
      summary="Generate a batch of coupon codes from a pattern")
def coupon_batch(promotion_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                 principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(BatchRequest, body)
    with kernel.context(principal) as ctx:
        return create_batch(ctx, promotion_id, data.pattern, data.count, data.usage_limit)


@post("/promotions/{promotion_id:int}/simulate", sync_to_thread=True, status_code=200,
      opt={"permission": "promotions.promotion.read"},
      operation_class=body_operation(SimulationRequest),
      summary="Run a promotion (a draft too) over past orders: what it would have cost")
def simulate_route(promotion_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                   principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(SimulationRequest, body)
    start, end = _date("start", data.start), _date("end", data.end)
    if end < start:
        raise ValidationError("end is before start", {"end": "before start"})
    try:
        zone = ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("unknown time zone", {"timezone": "unknown"}) from None
    with kernel.context(principal) as ctx:
        return simulate(ctx, promotion_id, start, end, zone)


@get("/results", sync_to_thread=True, opt={"permission": "promotions.results.read"},
     summary="Discount given, orders and revenue per promotion and per campaign")
def results(kernel: KernelDependency, principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return promotion_results(ctx)


ROUTES = [dry_run_route, explanation, coupon_batch, simulate_route, results]
