"""Supplier rating as report figures (SUP-1), defined once for every report: on time in
full, fill rate, quality acceptance rate and price variance, cut by supplier, product and
warehouse and by month (or day, week, quarter) of the day that dates each figure.

The figures are those of ``erp_supply.rating``, so the API's rating and a report agree:

- order lines count in the period they were due (the line's expected date, else the
  order's), once the order was sent and unless it was cancelled; a line is on time in
  full when everything was received and no receipt of it came late; the fill rate is
  units received (up to the quantity) of the units due;
- receipt lines count on the day of their receipt: units accepted of units delivered;
- bill lines count on the bill's date once the bill is approved or posted: billed minus
  ordered value over the ordered value.

A period without activity has no row, rather than a perfect or a zero rating.
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_sdk import (
    Dimension,
    Join,
    Measure,
    Metric,
    MetricSource,
    Unit,
    day_as_time,
    exact_product,
)
from erp_supply.bills import COUNTED_STATES, Bill, BillLine
from erp_supply.purchase_orders import OrderState, PurchaseOrder, PurchaseOrderLine
from erp_supply.receipts import Receipt, ReceiptLine
from erp_supply.suppliers import Supplier

PERMISSION = "supply.rating.read"

line = PurchaseOrderLine.__table__
order = PurchaseOrder.__table__
receipt = Receipt.__table__
receipt_line = ReceiptLine.__table__
bill = Bill.__table__
bill_line = BillLine.__table__
supplier = Supplier.__table__


def _supplier(column: sa.ColumnElement[int]) -> Dimension:
    return Dimension("supplier", column, joins=[Join(supplier, supplier.c.id == column)],
                     label=supplier.c.name, title="Supplier")


_DUE = sa.func.coalesce(line.c.expected_date, order.c.expected_date)
ORDER_LINES_DUE = MetricSource(
    "order_lines_due",
    line,
    joins=[Join(order, order.c.id == line.c.order_id, outer=False)],
    condition=sa.and_(order.c.state.not_in([OrderState.DRAFT, OrderState.CANCELLED]),
                      _DUE.is_not(None)),
    time=day_as_time(_DUE),
    entities={"supply.purchase_order": order, "supply.purchase_order_line": line},
    record=("supply.purchase_order_line", line.c.id),
    dimensions=[_supplier(order.c.supplier_id),
                Dimension("product", line.c.product_id, title="Product"),
                Dimension("warehouse", order.c.warehouse_id, title="Warehouse")],
)

_LATE = sa.exists().where(receipt_line.c.order_line_id == line.c.id,
                          receipt_line.c.on_time.is_(False))
_IN_FULL = sa.and_(line.c.received_quantity >= line.c.quantity, sa.not_(_LATE))
_RECEIVED_UP_TO_DUE = sa.case((line.c.received_quantity < line.c.quantity,
                               line.c.received_quantity), else_=line.c.quantity)

RECEIPT_LINES = MetricSource(
    "receipt_lines",
    receipt_line,
    joins=[Join(receipt, receipt.c.id == receipt_line.c.receipt_id, outer=False)],
    time=day_as_time(receipt.c.received_on),
    entities={"supply.receipt": receipt, "supply.receipt_line": receipt_line},
    record=("supply.receipt_line", receipt_line.c.id),
    dimensions=[_supplier(receipt.c.supplier_id),
                Dimension("product", receipt_line.c.product_id, title="Product"),
                Dimension("warehouse", receipt.c.warehouse_id, title="Warehouse")],
)

BILLED_LINES = MetricSource(
    "billed_lines",
    bill_line,
    joins=[Join(bill, bill.c.id == bill_line.c.bill_id, outer=False),
           Join(line, line.c.id == bill_line.c.order_line_id, outer=False),
           Join(order, order.c.id == line.c.order_id, outer=False)],
    condition=bill.c.state.in_(list(COUNTED_STATES)),
    time=day_as_time(bill.c.bill_date),
    entities={"supply.bill": bill, "supply.bill_line": bill_line},
    record=("supply.bill_line", bill_line.c.id),
    dimensions=[_supplier(bill.c.supplier_id),
                Dimension("product", line.c.product_id, title="Product"),
                Dimension("warehouse", order.c.warehouse_id, title="Warehouse")],
)

_ORDERED_VALUE = Measure.sum(exact_product(bill_line.c.quantity, line.c.unit_price))
_BILLED_VALUE = Measure.sum(exact_product(bill_line.c.quantity, bill_line.c.unit_price))


def supply_metrics() -> list[Metric]:
    return [
        Metric("on_time_in_full", "On time in full",
               Measure.ratio(Measure.count(sa.case((_IN_FULL, line.c.id))),
                             Measure.count(line.c.id)),
               ORDER_LINES_DUE, PERMISSION, Unit.SHARE,
               "Order lines due in the period received completely, none of it late"),
        Metric("lines_due", "Order lines due", Measure.count(line.c.id), ORDER_LINES_DUE,
               PERMISSION, Unit.COUNT, "Lines of sent orders due in the period"),
        Metric("fill_rate", "Fill rate",
               Measure.ratio(Measure.sum(_RECEIVED_UP_TO_DUE), Measure.sum(line.c.quantity)),
               ORDER_LINES_DUE, PERMISSION, Unit.SHARE,
               "Units received (up to the quantity ordered) of the units due in the period"),
        Metric("quality_acceptance_rate", "Quality acceptance rate",
               Measure.ratio(Measure.sum(receipt_line.c.quantity),
                             Measure.sum(receipt_line.c.quantity
                                         + receipt_line.c.rejected_quantity)),
               RECEIPT_LINES, PERMISSION, Unit.SHARE,
               "Units accepted of the units delivered in the period"),
        Metric("price_variance", "Price variance",
               Measure.ratio(Measure.sum(
                   exact_product(bill_line.c.quantity, bill_line.c.unit_price)
                   - exact_product(bill_line.c.quantity, line.c.unit_price)), _ORDERED_VALUE),
               BILLED_LINES, PERMISSION, Unit.SHARE,
               "Billed minus ordered value over the ordered value, of the approved and"
               " posted bills dated in the period"),
    ]
