"""A supplier's rating per month, over the months in which it had activity only (a month
without orders due, receipts or bills has no rating rather than a perfect or a zero one).

- **on time in full**: of the order lines due that month, the share received completely
  with every receipt on or before its expected date;
- **fill rate**: units received of the units due that month;
- **quality acceptance**: units accepted of the units delivered that month (accepted and
  rejected);
- **price variance**: billed minus ordered value, over the ordered value, of the lines
  of approved or posted bills dated that month.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from erp_sdk import Context
from erp_supply.bills import COUNTED_STATES, Bill, BillLine
from erp_supply.purchase_orders import OrderState, PurchaseOrder, PurchaseOrderLine
from erp_supply.receipts import Receipt, ReceiptLine

ZERO = Decimal(0)
RATIO = Decimal("0.0001")


def _ratio(part: Decimal, whole: Decimal) -> str | None:
    return None if not whole else str((part / whole).quantize(RATIO, rounding=ROUND_HALF_UP))


def supplier_rating(ctx: Context, supplier_id: int) -> list[dict[str, Any]]:
    """The rating of each month with activity, oldest first."""
    ctx.records("supply.supplier").get(supplier_id)  # permission and scope: 404 otherwise
    session = ctx.session
    line, order = PurchaseOrderLine, PurchaseOrder
    late_lines = set(session.scalars(
        sa.select(ReceiptLine.order_line_id).join(Receipt, Receipt.id == ReceiptLine.receipt_id)
        .where(Receipt.supplier_id == supplier_id, ReceiptLine.on_time.is_(False))))
    months: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "lines_due": 0, "lines_on_time_in_full": 0, "due": ZERO, "received": ZERO,
        "accepted": ZERO, "rejected": ZERO, "ordered_value": ZERO, "billed_value": ZERO})
    due_lines = session.execute(
        sa.select(line.id, line.quantity, line.received_quantity, line.cancelled_quantity,
                  sa.func.coalesce(line.expected_date, order.expected_date))
        .join(order, order.id == line.order_id)
        .where(order.supplier_id == supplier_id,
               order.state.not_in((OrderState.DRAFT, OrderState.CANCELLED))))
    for line_id, quantity, received, _cancelled, due in due_lines:
        if due is None:
            continue
        month = months[due.strftime("%Y-%m")]
        month["lines_due"] += 1
        month["due"] += quantity
        month["received"] += min(received, quantity)
        if received >= quantity and line_id not in late_lines:
            month["lines_on_time_in_full"] += 1
    for received_on, accepted, rejected in session.execute(
            sa.select(Receipt.received_on, ReceiptLine.quantity, ReceiptLine.rejected_quantity)
            .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
            .where(Receipt.supplier_id == supplier_id)):
        month = months[received_on.strftime("%Y-%m")]
        month["accepted"] += accepted
        month["rejected"] += rejected
    for bill_date, quantity, billed_price, ordered_price in session.execute(
            sa.select(Bill.bill_date, BillLine.quantity, BillLine.unit_price, line.unit_price)
            .join(Bill, Bill.id == BillLine.bill_id)
            .join(line, line.id == BillLine.order_line_id)
            .where(Bill.supplier_id == supplier_id, Bill.state.in_(COUNTED_STATES))):
        month = months[bill_date.strftime("%Y-%m")]
        month["ordered_value"] += quantity * ordered_price
        month["billed_value"] += quantity * billed_price
    return [{
        "period": period,
        "lines_due": m["lines_due"],
        "on_time_in_full": _ratio(Decimal(m["lines_on_time_in_full"]), Decimal(m["lines_due"])),
        "fill_rate": _ratio(m["received"], m["due"]),
        "quality_acceptance": _ratio(m["accepted"], m["accepted"] + m["rejected"]),
        "price_variance": _ratio(m["billed_value"] - m["ordered_value"], m["ordered_value"]),
    } for period, m in sorted(months.items())]
