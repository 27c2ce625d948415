"""Entering an order with its lines in one transaction (ORD-1).

Used by the ``POST /api/v1/orders/place`` route, by channel imports and by other
plugins. An order with an ``external_reference`` is unique per channel: placing it
again returns the order that exists, so a retried request or a re-imported marketplace
order is one order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_crm.addresses import Address
from erp_crm.customers import Customer
from erp_inventory.catalogue import Product
from erp_orders.channel import Channel
from erp_orders.line_rules import check_line
from erp_orders.money import ZERO, line_amounts, order_amounts
from erp_orders.order import ADDRESS_FIELDS, Order, OrderLine
from erp_orders.pricing import Cart, CartLine, price_cart
from erp_orders.totals import add_gift_lines
from erp_sdk import (
    Context,
    ListOf,
    Nested,
    NotFoundError,
    ValidationError,
    identifier,
    money,
    quantity,
    rate,
    text,
    typed_field,
    utcnow,
)


@attrs.frozen
class LineRequest:
    """A line to place: ``unit_price`` defaults to the product's list price; ``tax_rate``
    is a fraction (0.19 is 19 %)."""

    product_id: int = typed_field(identifier())
    quantity: Decimal = typed_field(quantity("positive"))
    unit_price: Decimal | None = typed_field(money("non_negative"), default=None,
                                             nullable=True)
    discount: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    tax_rate: Decimal = typed_field(rate(), default=Decimal(0))


@attrs.frozen
class OrderRequest:
    """An order to place; every value is checked by its field type when the request is
    made, from Python as from the HTTP route."""

    channel_id: int = typed_field(identifier())
    customer_id: int = typed_field(identifier())
    lines: Sequence[LineRequest] = typed_field(ListOf(Nested(LineRequest)))
    external_reference: str | None = typed_field(text(120), default=None, nullable=True)
    warehouse_id: int | None = typed_field(identifier(), default=None, nullable=True)
    currency: str = typed_field(text(3), default="EUR")
    shipping_address: Mapping[str, Any] | None = None
    billing_address: Mapping[str, Any] | None = None
    shipping_amount: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    notes: str | None = typed_field(text(), default=None, nullable=True)
    coupon_codes: Sequence[str] = typed_field(ListOf(text(64), max_items=10), default=())


_INSERT_LINES = sa.insert(OrderLine.__table__)
_PRODUCTS = sa.select(Product).where(Product.id.in_(sa.bindparam("ids", expanding=True)))


_SHIP = sa.orm.aliased(Address, name="ship")
_BILL = sa.orm.aliased(Address, name="bill")
_ADDRESS_COLUMNS = ("recipient", "line1", "line2", "city", "postal_code", "region", "country")
_PARTIES = (
    sa.select(Channel.warehouse_id, Customer.id.label("customer"), Customer.name,
              *(getattr(_SHIP, c).label(f"ship_{c}") for c in ("id", *_ADDRESS_COLUMNS)),
              *(getattr(_BILL, c).label(f"bill_{c}") for c in ("id", *_ADDRESS_COLUMNS)))
    .select_from(Channel)
    .outerjoin(Customer, Customer.id == sa.bindparam("customer_id"))
    .outerjoin(_SHIP, _SHIP.id == Customer.default_shipping_address_id)
    .outerjoin(_BILL, _BILL.id == Customer.default_billing_address_id)
    .where(Channel.id == sa.bindparam("channel_id")))
"""The channel, the customer and the customer's default addresses in one round trip."""


def _address(given: Mapping[str, Any] | None, parties: Any, kind: str) -> dict[str, Any]:
    """The address to copy onto the order: the one given, else the customer's default."""
    if given is not None:
        unknown = set(given) - set(ADDRESS_FIELDS)
        if unknown:
            raise ValidationError(f"unknown address fields: {', '.join(sorted(unknown))}",
                                  {"address": "unknown fields"})
        return {field: given.get(field) for field in ADDRESS_FIELDS}
    if parties[f"{kind}_id"] is None:
        return {}
    return {"name": parties[f"{kind}_recipient"] or parties["name"],
            **{field: parties[f"{kind}_{field}"] for field in ADDRESS_FIELDS[1:]}}


def place_order(ctx: Context, request: OrderRequest) -> tuple[int, bool]:
    """Create the order and its lines; returns ``(order id, created)``."""
    placed = place(ctx, request)
    return placed.id, placed.created


@attrs.frozen
class PlacedOrder:
    """What ``place`` did: the order's id, whether it is new, and the order as the API
    shows it (``None`` when an order with the external reference existed)."""

    id: int
    created: bool
    record: Mapping[str, Any] | None


def place(ctx: Context, request: OrderRequest) -> PlacedOrder:
    """``place_order`` that also hands back the new order's record, read once."""
    ctx.principal.require("orders.order.create")
    if request.external_reference:
        existing = ctx.session.scalar(sa.select(Order.id).where(
            Order.channel_id == request.channel_id,
            Order.external_reference == request.external_reference))
        if existing is not None:
            return PlacedOrder(existing, False, None)
    if not request.lines:
        raise ValidationError("an order needs at least one line", {"lines": "empty"})
    parties = ctx.session.execute(_PARTIES, {"channel_id": request.channel_id,
                                             "customer_id": request.customer_id}
                                  ).mappings().first()
    if parties is None:
        raise NotFoundError(f"channel {request.channel_id} does not exist")
    if parties["customer"] is None:
        raise ValidationError(f"customer {request.customer_id} does not exist",
                              {"customer_id": "does not exist"})
    # The channel and the customer were just read, and so was the channel's warehouse:
    # the order vouches for them (no second check); a warehouse asked for is checked.
    vouched: dict[str, Any] = {"channel_id": request.channel_id,
                               "customer_id": request.customer_id}
    warehouse_id = request.warehouse_id or parties["warehouse_id"]
    if not request.warehouse_id:
        vouched["warehouse_id"] = warehouse_id
    if warehouse_id is None:
        raise ValidationError("say which warehouse serves the order (or give the channel"
                              " a default warehouse)", {"warehouse_id": "required"})
    currency = request.currency.upper()
    products = {p.id: p for p in ctx.session.scalars(
        _PRODUCTS, {"ids": sorted({line.product_id for line in request.lines})})}
    rows = []
    for number, line in enumerate(request.lines):
        product = products.get(line.product_id)
        if product is None:
            raise ValidationError(f"line {number + 1}: product {line.product_id} does not"
                                  " exist", {f"lines[{number}].product_id": "does not exist"})
        unit_price = product.list_price if line.unit_price is None else line.unit_price
        check_line(product, currency, line.quantity, unit_price, line.discount,
                   f"lines[{number}].")
        rows.append({"product_id": product.id, "sku": product.sku,
                     "description": product.name, "quantity": line.quantity,
                     "unit_price": unit_price, "discount": line.discount,
                     "tax_rate": line.tax_rate})
    now = utcnow()
    coupon_codes = tuple(dict.fromkeys(code.strip().upper() for code in request.coupon_codes
                                       if code.strip()))
    cart = Cart(request.channel_id, request.customer_id, currency, now,
                tuple(CartLine(r["product_id"], r["quantity"], r["unit_price"], r["discount"],
                               r["tax_rate"], products[r["product_id"]].category_id)
                      for r in rows),
                request.shipping_amount, coupon_codes)
    pricing = price_cart(ctx, cart)
    for row, discount in zip(rows, pricing.line_discounts if pricing else (), strict=False):
        row["promotion_discount"] = discount
    for row in rows:
        amounts = line_amounts(row["quantity"], row["unit_price"], row["discount"],
                               row["tax_rate"], row.setdefault("promotion_discount", ZERO))
        row.update(line_net=amounts.net, line_tax=amounts.tax, line_total=amounts.total,
                   gift=False)
    shipping_discount = pricing.shipping_discount if pricing else ZERO
    totals = order_amounts(((r["quantity"], r["unit_price"], r["discount"], r["tax_rate"],
                             r["promotion_discount"]) for r in rows),
                           request.shipping_amount, shipping_discount)
    ship = _address(request.shipping_address, parties, "ship")
    bill = _address(request.billing_address, parties, "bill") or ship
    asked = {} if "warehouse_id" in vouched else {"warehouse_id": warehouse_id}
    created = ctx.records("orders.order").create({
        "external_reference": request.external_reference, **asked,
        "currency": currency, "notes": request.notes,
        "shipping_amount": str(request.shipping_amount),
        **{f"ship_{k}": v for k, v in ship.items()}, **{f"bill_{k}": v for k, v in bill.items()},
    }, computed={**vouched, "placed_at": now, "subtotal": totals.subtotal,
                 "discount_total": totals.discount_total, "tax_total": totals.tax_total,
                 "total": totals.total, "shipping_discount": shipping_discount,
                 "order_discount": pricing.order_discount if pricing else ZERO,
                 "coupon_codes": list(coupon_codes) or None})
    order_id = created["id"]
    values = [{**row, "order_id": order_id, "version": 1, "created_at": now, "updated_at": now,
               "quantity_shipped": ZERO, "quantity_returned": ZERO} for row in rows]
    if pricing is None:
        ctx.session.execute(_INSERT_LINES, values)
    else:
        line_ids = list(ctx.session.scalars(
            _INSERT_LINES.returning(OrderLine.id, sort_by_parameter_order=True), values))
        add_gift_lines(ctx, order_id, pricing, [r["tax_rate"] for r in rows])
        ctx.session.flush()
        ctx.kernel.hook.erp_orders_order_priced(ctx=ctx, order_id=order_id,
                                                line_ids=line_ids, pricing=pricing)
    # The lines leave the order's row as its create returned it (totals were computed).
    ctx.emit("orders.order.placed", "orders.order", order_id, {"id": order_id, "record": created})
    return PlacedOrder(order_id, True, created)
