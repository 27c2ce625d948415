"""The sales and after-sales figures of orders, defined once for every report.

Sales count orders from confirmation on (confirmed, on hold, shipping, shipped,
delivered, completed): a draft, an order in review, a cancelled or a merged one is no
sale. Amounts are before tax; net sales are after line discounts; returns show in the
returns rate.
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_crm.customers import Customer
from erp_inventory.catalogue import Category, Product
from erp_inventory.warehouses import Warehouse
from erp_orders.channel import Channel
from erp_orders.order import Order, OrderLine, OrderState
from erp_orders.tickets import Ticket, TicketState
from erp_sdk import Dimension, Join, Measure, Metric, MetricSource, Rollup, Unit, hookimpl

SOLD_STATES = (OrderState.CONFIRMED, OrderState.ON_HOLD, OrderState.PARTIALLY_SHIPPED,
               OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED)
OPEN_TICKET_STATES = (TicketState.OPEN, TicketState.WAITING)

order = Order.__table__
line = OrderLine.__table__
product = Product.__table__
category = Category.__table__
channel = Channel.__table__
warehouse = Warehouse.__table__
customer = Customer.__table__
ticket = Ticket.__table__

_CHANNEL = Join(channel, channel.c.id == order.c.channel_id)
_PRODUCT = Join(product, product.c.id == line.c.product_id)
_CATEGORY = Join(category, category.c.id == product.c.category_id)
_WAREHOUSE = Join(warehouse, warehouse.c.id == order.c.warehouse_id)
_CUSTOMER = Join(customer, customer.c.id == order.c.customer_id)


def _order_dimensions() -> list[Dimension]:
    """What an order (and so each of its lines) can be cut by."""
    return [
        Dimension("channel", order.c.channel_id, joins=[_CHANNEL], label=channel.c.name,
                  title="Channel"),
        Dimension("warehouse", order.c.warehouse_id, joins=[_WAREHOUSE],
                  label=warehouse.c.name, title="Warehouse"),
        Dimension("customer", order.c.customer_id, joins=[_CUSTOMER], label=customer.c.name,
                  title="Customer"),
        Dimension("customer_tier", customer.c.tier, joins=[_CUSTOMER], title="Customer tier"),
        Dimension("country", order.c.ship_country, title="Country"),
        Dimension("currency", order.c.currency, title="Currency"),
    ]


# what a reporting plugin may pre-aggregate: per hour, an order's own attributes (each
# order in one group, so orders can be counted); per day, the product with the channel
_BY_ORDER = (order.c.channel_id, order.c.warehouse_id, order.c.currency, order.c.ship_country)

ORDER_LINES = MetricSource(
    "order_lines",
    line,
    joins=[Join(order, order.c.id == line.c.order_id, outer=False)],
    condition=order.c.state.in_(SOLD_STATES),
    time=order.c.placed_at,
    entities={"orders.order": order, "orders.order_line": line},
    currency=order.c.currency,
    record=("orders.order", order.c.id),
    rollups=[Rollup("by_order", _BY_ORDER, distinct=[order.c.id]),
             Rollup("by_product", (line.c.product_id, order.c.channel_id,
                                   order.c.warehouse_id, order.c.currency), grain="day")],
    changed=(order.c.updated_at, line.c.updated_at),
    dimensions=[
        *_order_dimensions(),
        Dimension("product", line.c.product_id, joins=[_PRODUCT], label=product.c.name,
                  title="Product"),
        Dimension("category", product.c.category_id, joins=[_PRODUCT, _CATEGORY],
                  label=category.c.name, title="Category"),
    ],
)

ORDERS = MetricSource(
    "orders",
    order,
    time=order.c.placed_at,
    condition=order.c.state != OrderState.DRAFT,
    entities={"orders.order": order},
    currency=order.c.currency,
    record=("orders.order", order.c.id),
    rollups=[Rollup("by_state", (*_BY_ORDER, order.c.state), distinct=[order.c.id])],
    changed=(order.c.updated_at,),
    dimensions=[*_order_dimensions(), Dimension("state", order.c.state, title="State")],
)

TICKETS = MetricSource(
    "tickets",
    ticket,
    joins=[Join(order, order.c.id == ticket.c.order_id, outer=False)],
    time=ticket.c.created_at,
    entities={"orders.ticket": ticket, "orders.order": order},
    record=("orders.ticket", ticket.c.id),
    dimensions=[*_order_dimensions(), Dimension("reason", ticket.c.reason, title="Reason"),
                Dimension("ticket_state", ticket.c.state, title="Ticket state")],
)

_NET = Measure.sum(line.c.line_net)
_GROSS = Measure.sum(sa.type_coerce(line.c.line_net + line.c.discount, line.c.line_net.type))
_ORDERS = Measure.count_distinct(order.c.id)
_UNITS = Measure.sum(line.c.quantity)
_RETURNED = Measure.sum(line.c.quantity_returned)
_SALES = "orders.order.read"


@hookimpl
def erp_register_metrics():
    return [
        Metric("gross_sales", "Gross sales", _GROSS, ORDER_LINES, _SALES, Unit.MONEY,
               "Lines before discounts and tax"),
        Metric("net_sales", "Net sales", _NET, ORDER_LINES, _SALES, Unit.MONEY,
               "Lines after discounts, before tax"),
        Metric("discounts", "Discounts", Measure.sum(line.c.discount), ORDER_LINES, _SALES,
               Unit.MONEY),
        Metric("orders", "Orders", _ORDERS, ORDER_LINES, _SALES, Unit.COUNT,
               "Orders with at least one sold line"),
        Metric("units", "Units sold", _UNITS, ORDER_LINES, _SALES, Unit.QUANTITY),
        Metric("average_order_value", "Average order value", Measure.ratio(_NET, _ORDERS),
               ORDER_LINES, _SALES, Unit.MONEY, "Net sales per order"),
        Metric("units_returned", "Units returned", _RETURNED, ORDER_LINES, _SALES,
               Unit.QUANTITY),
        Metric("returns_rate", "Returns rate", Measure.ratio(_RETURNED, _UNITS), ORDER_LINES,
               _SALES, Unit.SHARE, "Units returned per unit sold"),
        Metric("orders_placed", "Orders placed", Measure.count(order.c.id), ORDERS, _SALES,
               Unit.COUNT, "Every order past draft, in any state (cut by state)"),
        Metric("order_value", "Order value", Measure.sum(order.c.total), ORDERS, _SALES,
               Unit.MONEY, "Order totals with tax and shipping, in any state past draft"),
        Metric("tickets", "Tickets", Measure.count(ticket.c.id), TICKETS, "orders.ticket.read",
               Unit.COUNT),
        Metric("open_tickets", "Open tickets",
               Measure.count(sa.case((ticket.c.state.in_(OPEN_TICKET_STATES), ticket.c.id))),
               TICKETS, "orders.ticket.read", Unit.COUNT, "Open or waiting on the customer"),
        Metric("satisfaction", "Satisfaction", Measure.average(ticket.c.satisfaction),
               TICKETS, "orders.ticket.read", Unit.NUMBER,
               "Average score (1 to 5) of the tickets closed with one"),
    ]
