"""Freight and duty entered after a receipt re-cost the stock received.

A receipt costs its units with the order's freight and duty known that day (spread over
the lines by value, see ``erp_supply.receipts``). When the freight or the duty of the
order changes afterwards (the carrier's invoice, the customs bill), each unit already
received gets the difference of its share, at the exchange rate of its receipt; the
inventory plugin adds it to the units still on hand (``add_cost_to_stock``), raising the
product's moving-average cost. The share of units already sold is not in stock any more:
inventory records it with the adjustment, for the books' cost of goods sold.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa

from erp_inventory.movements import add_cost_to_stock
from erp_sdk import Context, Principal, WriteEvent, on_write
from erp_supply.currencies import to_company
from erp_supply.purchase_orders import PurchaseOrderLine
from erp_supply.receipts import Receipt, ReceiptLine

ZERO = Decimal(0)


def _landed(values: dict) -> Decimal:
    return Decimal(str(values.get("freight") or 0)) + Decimal(str(values.get("duty") or 0))


@on_write("supply.purchase_order", actions=("update",))
def recost_received_stock(ctx: Context, event: WriteEvent) -> None:
    """A change of freight or duty after a receipt re-costs the units received."""
    change = _landed(event.after or {}) - _landed(event.before or {})
    if not change:
        return
    line = PurchaseOrderLine
    lines = ctx.session.execute(sa.select(line.quantity, line.unit_price)
                                .where(line.order_id == event.record_id)).all()
    ordered_value = sum((quantity * price for quantity, price in lines), ZERO)
    if not ordered_value:
        return
    received = ctx.session.execute(
        sa.select(ReceiptLine.product_id, ReceiptLine.quantity, line.unit_price,
                  Receipt.exchange_rate)
        .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
        .join(line, line.id == ReceiptLine.order_line_id)
        .where(Receipt.purchase_order_id == event.record_id, ReceiptLine.quantity > 0)
        .order_by(ReceiptLine.id)).all()
    per_product: dict[tuple[int, Decimal], Decimal] = defaultdict(lambda: ZERO)
    for product_id, quantity, unit_price, rate in received:
        unit_amount = to_company(unit_price * change / ordered_value, Decimal(rate))
        per_product[product_id, unit_amount] += quantity
    system = ctx.as_principal(Principal.system("supply.landed_costs"))
    for (product_id, unit_amount), quantity in sorted(per_product.items()):
        add_cost_to_stock(system, product_id, quantity, unit_amount,
                          origin=f"supply.purchase_order:{event.record_id}")
