"""Keeping line amounts and order totals exact whenever lines change.

While an order is a draft, a change of its lines, its shipping amount or its coupon codes
prices it again through the pricing hook (``erp_orders.pricing``); other changes of the
amounts (a split, a merge) keep the discounts the lines already carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa

from erp_inventory.catalogue import Product
from erp_orders.line_rules import check_line
from erp_orders.money import ZERO, line_amounts, order_amounts
from erp_orders.order import Order, OrderLine, OrderState
from erp_orders.pricing import Cart, Pricing, cart_lines, price_cart
from erp_sdk import ConflictError, Context, ValidationError, WriteEvent, on_write, utcnow

EDITABLE_STATES = {OrderState.DRAFT}
REPRICED_FIELDS = ("shipping_amount", "coupon_codes")


def recompute_totals(ctx: Context, order_id: int, *, reprice: bool = False) -> None:
    """Rewrite every line's amounts and the order's totals from quantities, prices and
    discounts; with ``reprice``, ask the pricing hook for the promotion discounts first
    (gift lines it added before are replaced by the ones it adds now)."""
    order = ctx.session.get(Order, order_id)
    if reprice and order.state in EDITABLE_STATES:
        reprice_order(ctx, order)
    lines = list(ctx.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id)))
    for line in lines:
        amounts = line_amounts(line.quantity, line.unit_price, line.discount, line.tax_rate,
                               line.promotion_discount)
        line.line_net, line.line_tax, line.line_total = amounts.net, amounts.tax, amounts.total
    totals = order_amounts(((ln.quantity, ln.unit_price, ln.discount, ln.tax_rate,
                             ln.promotion_discount) for ln in lines),
                           order.shipping_amount, order.shipping_discount)
    order.subtotal, order.discount_total = totals.subtotal, totals.discount_total
    order.tax_total, order.total = totals.tax_total, totals.total
    ctx.session.flush()


def reprice_order(ctx: Context, order: Order) -> None:
    """Price a draft again: its paid lines through the hook, its gift lines anew."""
    ctx.session.flush()
    ctx.session.execute(sa.delete(OrderLine).where(OrderLine.order_id == order.id,
                                                   OrderLine.gift.is_(True)))
    lines = list(ctx.session.scalars(sa.select(OrderLine).where(
        OrderLine.order_id == order.id).order_by(OrderLine.id)))
    cart = Cart(order.channel_id, order.customer_id, order.currency,
                order.placed_at or utcnow(),
                cart_lines(ctx.session, [{"id": ln.id, "product_id": ln.product_id,
                                          "quantity": ln.quantity, "unit_price": ln.unit_price,
                                          "discount": ln.discount, "tax_rate": ln.tax_rate}
                                         for ln in lines]),
                order.shipping_amount, tuple(order.coupon_codes or ()), order.id)
    pricing = price_cart(ctx, cart) if lines else None
    discounts = pricing.line_discounts if pricing else (ZERO,) * len(lines)
    for line, discount in zip(lines, discounts, strict=True):
        line.promotion_discount = discount
    order.order_discount = pricing.order_discount if pricing else ZERO
    order.shipping_discount = pricing.shipping_discount if pricing else ZERO
    if pricing is not None:
        add_gift_lines(ctx, order.id, pricing, [line.tax_rate for line in lines])
        ctx.session.flush()
        ctx.kernel.hook.erp_orders_order_priced(ctx=ctx, order_id=order.id,
                                                line_ids=[line.id for line in lines],
                                                pricing=pricing)


def add_gift_lines(ctx: Context, order_id: int, pricing: Pricing,
                   tax_rates: Sequence[Decimal]) -> None:
    """The pricing's gift lines, at a price of zero (taxed at nothing: nothing is paid)."""
    if not pricing.gift_lines:
        return
    products = {p.id: p for p in ctx.session.scalars(sa.select(Product).where(
        Product.id.in_(sorted({gift.product_id for gift in pricing.gift_lines}))))}
    for gift in pricing.gift_lines:
        product = products.get(gift.product_id)
        if product is None:
            continue
        ctx.session.add(OrderLine(order_id=order_id, product_id=product.id, sku=product.sku,
                                  description=product.name, quantity=gift.quantity,
                                  unit_price=ZERO, discount=ZERO, promotion_discount=ZERO,
                                  tax_rate=ZERO, gift=True, quantity_shipped=ZERO,
                                  quantity_returned=ZERO, version=1))


def _order_id(event: WriteEvent) -> int | None:
    return (event.before or event.after or {}).get("order_id") or event.changes.get("order_id")


@on_write("orders.order_line", when="before")
def lines_change_only_in_draft(ctx: Context, event: WriteEvent) -> None:
    order_id = _order_id(event)
    order = ctx.session.execute(sa.select(Order.state, Order.currency).where(
        Order.id == order_id)).first()
    if order is not None and order.state not in EDITABLE_STATES:
        raise ConflictError(f"order {order_id} is {order.state}: its lines can no longer"
                            " change; cancel it, or split or return instead")
    priced = ("product_id", "quantity", "unit_price", "discount")
    if order is not None and event.action != "delete" and set(event.changes) & set(priced):
        line = {**(event.before or {}), **event.changes}
        product = ctx.session.get(Product, line["product_id"])
        if product is not None and line.get("quantity") is not None \
                and line.get("unit_price") is not None:
            check_line(product, order.currency, Decimal(line["quantity"]),
                       Decimal(line["unit_price"]), Decimal(line.get("discount") or 0))


@on_write("orders.order_line", when="after")
def line_changed(ctx: Context, event: WriteEvent) -> None:
    order_id = _order_id(event)
    if order_id is not None:
        recompute_totals(ctx, order_id, reprice=True)


@on_write("orders.order", actions=("update",), when="before")
def coupon_codes_are_written_as_placing_writes_them(ctx: Context, event: WriteEvent) -> None:
    """Placing stores codes upper case, stripped and once each; an update must write them
    the same way, so that what the order shows is what the pricing hook matched."""
    codes = event.changes.get("coupon_codes") or []  # a list of text (its field type)
    if len(set(codes)) < len(codes) or any(code != code.strip().upper() or not code.strip()
                                           for code in codes):
        raise ValidationError("coupon codes must be written in upper case, without"
                              " surrounding spaces, each once",
                              {"coupon_codes": "not upper case, or repeated"})


@on_write("orders.order", actions=("update",), when="after")
def order_changed(ctx: Context, event: WriteEvent) -> None:
    """An after-write event carries the record before and after the write (its
    ``changes`` are empty): compare them to tell whether the amounts moved."""
    before, after = event.before or {}, event.after or {}
    if any(before.get(field) != after.get(field) for field in REPRICED_FIELDS):
        recompute_totals(ctx, event.record_id, reprice=True)  # type: ignore[arg-type]
