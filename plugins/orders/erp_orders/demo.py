"""Demo data for ``erp demo``: three channels and a year of orders in every state, enough
history for the reports (sales by day, week and month, channel, product, tier).

The same on every run (``random.Random(2024)``; only the dates follow today), built on
the CRM's demo customers and the inventory's demo products and warehouses, which the
kernel loads first. Orders and lines go in with bulk inserts. Confirmed orders hold real
reservations, made through the inventory's ``reserve`` (so availability, stock alerts
and the reservation ledger agree); shipped and completed orders are history from before
the inventory's opening stock, so they moved no stock. No workflow transition is fired
(that would take seconds), so demo orders have no timeline before their first change.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_crm.addresses import Address
from erp_crm.customers import Customer
from erp_inventory.catalogue import Product
from erp_inventory.ledger import StockLevel
from erp_inventory.reservations import ReservationLine, reserve
from erp_inventory.warehouses import Warehouse
from erp_orders.channel import Channel, ChannelKind
from erp_orders.fulfilment import line_origin
from erp_orders.money import line_amounts, order_amounts
from erp_orders.order import Order, OrderLine, OrderState, order_number
from erp_sdk import Context, Kernel, Principal, insert_rows, utcnow

ORDERS = 1500
CHANNELS = (  # code, name, kind, warehouse code, share of the orders, reference prefix
    ("web", "Own web shop", ChannelKind.OWN_SITE, "MAIN", 5, "WEB-"),
    ("marketplace", "Marketplace", ChannelKind.MARKETPLACE, "EAST", 3, "MP-"),
    ("store", "City store", ChannelKind.STORE, "SHOP", 2, None),
)
STATES = ((OrderState.DRAFT, 2), (OrderState.CONFIRMED, 4), (OrderState.SHIPPED, 5),
          (OrderState.COMPLETED, 80), (OrderState.CANCELLED, 9))
AGE_DAYS = {OrderState.DRAFT: 10, OrderState.CONFIRMED: 2, OrderState.SHIPPED: 20}
"""How old an order in a state may be; the others (completed, cancelled) go back a year."""
RETURNED_SHARE = 0.05  # of the lines of completed orders, returned whole
SHIPPED = {OrderState.SHIPPED, OrderState.COMPLETED}
MOST_PER_LINE = 3
TAX_RATE = Decimal("0.19")
SHIPPING = (Decimal("0"), Decimal("4.90"), Decimal("6.90"))
NOTES = ("Leave at the door", "Gift wrap, please", "Call before delivery")


@attrs.frozen
class _Plan:
    channel: int
    warehouse: int
    reference: str | None
    customer: int
    state: OrderState
    placed_at: dt.datetime
    lines: tuple[tuple[int, Decimal], ...]
    shipping: Decimal
    notes: str | None



def _channels(session: Session) -> list[tuple[int, int, int, str | None]]:
    """Create the demo channels; ``(channel id, warehouse id, weight, prefix)`` each."""
    warehouses = dict(session.execute(sa.select(Warehouse.code, Warehouse.id)).all())
    fallback = min(warehouses.values(), default=None)
    created = []
    for code, name, kind, warehouse_code, weight, prefix in CHANNELS:
        warehouse = warehouses.get(warehouse_code, fallback)
        [channel_id] = insert_rows(session, Channel, [{
            "code": code, "name": name, "kind": kind, "driver": None, "settings": {},
            "secrets": {}, "warehouse_id": warehouse, "active": True,
            "collected_in_store": kind == ChannelKind.STORE}])
        if warehouse is not None:
            created.append((channel_id, warehouse, weight, prefix))
    return created


def _plans(session: Session, rng: random.Random, count: int) -> list[_Plan]:
    channels = _channels(session)
    customers = list(session.execute(
        sa.select(Customer.id).where(Customer.merged_into_id.is_(None),
                                     Customer.default_shipping_address_id.is_not(None))
        .order_by(Customer.id)).scalars())
    products = list(session.scalars(sa.select(Product.id).where(Product.active.is_(True))
                                    .order_by(Product.id)))
    if not channels or not customers or not products:
        return []
    available = {(p, w): a for p, w, a in session.execute(
        sa.select(StockLevel.product_id, StockLevel.warehouse_id, StockLevel.available))}
    now = utcnow()
    plans = []
    numbers = dict.fromkeys((c[0] for c in channels), 1000)
    for _ in range(count):
        channel, warehouse, _weight, prefix = rng.choices(channels, [c[2] for c in channels])[0]
        state = rng.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
        pool = products
        if state == OrderState.CONFIRMED:  # it must be able to reserve what it orders
            pool = [p for p in products if available.get((p, warehouse), 0) >= MOST_PER_LINE]
            if len(pool) < MOST_PER_LINE:
                state, pool = OrderState.DRAFT, products
        wanted = [(product, Decimal(rng.randint(1, MOST_PER_LINE)))
                  for product in rng.sample(pool, min(len(pool), rng.choice([1, 1, 2, 2, 3])))]
        if state == OrderState.CONFIRMED:
            for product, quantity in wanted:
                available[(product, warehouse)] -= quantity
        numbers[channel] += 1
        age = dt.timedelta(minutes=rng.randint(5, 60 * 24 * AGE_DAYS.get(state, 365)))
        plans.append(_Plan(
            channel, warehouse, f"{prefix}{numbers[channel]}" if prefix else None,
            rng.choice(customers), state, now - age, tuple(wanted), rng.choice(SHIPPING),
            rng.choice(NOTES) if rng.random() < 0.1 else None))
    return sorted(plans, key=lambda plan: plan.placed_at)  # numbers follow the dates


def load_demo_data(session: Session, kernel: Kernel, orders: int = ORDERS) -> None:
    """Fill an empty orders plugin (``erp_load_demo_data``)."""
    rng = random.Random(2024)
    plans = _plans(session, rng, orders)
    if not plans:
        return
    prices = dict(session.execute(sa.select(Product.id, Product.list_price)).all())
    skus = dict(session.execute(sa.select(Product.id, Product.sku)).all())
    names = dict(session.execute(sa.select(Product.id, Product.name)).all())
    addresses = {customer: (name, address) for customer, name, address in session.execute(
        sa.select(Customer.id, Customer.name, Address)
        .join(Address, Address.id == Customer.default_shipping_address_id))}
    now = utcnow()
    order_rows = []
    for plan in plans:
        name, address = addresses[plan.customer]
        shipping = {"name": address.recipient or name, "line1": address.line1,
                    "line2": address.line2, "city": address.city,
                    "postal_code": address.postal_code, "region": address.region,
                    "country": address.country}
        totals = order_amounts(((q, prices[p], Decimal(0), TAX_RATE) for p, q in plan.lines),
                               plan.shipping)
        order_rows.append({
            "channel_id": plan.channel, "external_reference": plan.reference,
            "customer_id": plan.customer, "warehouse_id": plan.warehouse, "currency": "EUR",
            "state": plan.state, "notes": plan.notes, "shipping_amount": plan.shipping,
            "subtotal": totals.subtotal, "discount_total": totals.discount_total,
            "tax_total": totals.tax_total, "total": totals.total, "placed_at": plan.placed_at,
            "version": 1, "created_at": plan.placed_at, "updated_at": now,
            **{f"ship_{k}": v for k, v in shipping.items()},
            **{f"bill_{k}": v for k, v in shipping.items()}})
    order_ids = insert_rows(session, Order, order_rows)
    session.execute(sa.update(Order.__table__).where(Order.__table__.c.id == sa.bindparam("i"))
                    .values(number=sa.bindparam("n")),
                    [{"i": i, "n": order_number(i)} for i in order_ids])

    line_rows = []
    for order_id, plan in zip(order_ids, plans, strict=True):
        for product, quantity in plan.lines:
            amounts = line_amounts(quantity, prices[product], Decimal(0), TAX_RATE)
            line_rows.append({
                "order_id": order_id, "product_id": product, "sku": skus[product],
                "description": names[product], "quantity": quantity,
                "unit_price": prices[product], "discount": Decimal(0), "tax_rate": TAX_RATE,
                "line_net": amounts.net, "line_tax": amounts.tax, "line_total": amounts.total,
                "quantity_shipped": quantity if plan.state in SHIPPED else Decimal(0),
                "quantity_returned": quantity if plan.state == OrderState.COMPLETED
                and rng.random() < RETURNED_SHARE else Decimal(0),
                "version": 1, "created_at": plan.placed_at,
                "updated_at": now})
    line_ids = iter(insert_rows(session, OrderLine, line_rows))

    ctx = Context(kernel, session, Principal.system("demo"))
    for plan in plans:
        lines = [(next(line_ids), product, quantity) for product, quantity in plan.lines]
        if plan.state == OrderState.CONFIRMED:
            reserve(ctx, plan.warehouse, [ReservationLine(product, quantity, line_origin(line_id))
                                          for line_id, product, quantity in lines])
    session.flush()
