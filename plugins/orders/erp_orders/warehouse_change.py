"""Moving an order to another warehouse (INV-5): its reservations move with it.

An order's ``warehouse_id`` is where its goods ship from, and a confirmed order holds
reservations there. Changing it:

- in ``draft`` or ``review`` nothing is reserved yet: the order simply names the new
  warehouse, and confirming or approving reserves there;
- in ``confirmed`` or ``on_hold`` the reservations move in the same transaction: every
  line's reservation in the old warehouse is released and its open quantity reserved in
  the new one, all or nothing. A shortfall there refuses the change (409 naming each SKU
  and what is missing) and the order keeps its warehouse and its reservations, so stock
  is never promised twice nor shipped from a warehouse the order does not name;
- once goods left the warehouse (``partially_shipped`` and after) or
  the order is closed (``cancelled``, ``merged``), the warehouse is history and cannot
  change (409): split the unshipped lines off a confirmed order to serve them elsewhere.
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_inventory.exceptions import InsufficientStock
from erp_inventory.reservations import ReservationLine, release, reserve
from erp_orders.fulfilment import line_origin
from erp_orders.order import OrderLine, OrderState
from erp_sdk import ConflictError, Context, Principal, WriteEvent, on_write

S = OrderState
NOTHING_RESERVED = frozenset({S.DRAFT, S.REVIEW})
RESERVATIONS_MOVE = frozenset({S.CONFIRMED, S.ON_HOLD})

_OPEN_LINES = (sa.select(OrderLine.id, OrderLine.product_id,
                         OrderLine.quantity - OrderLine.quantity_shipped)
               .where(OrderLine.order_id == sa.bindparam("order"))
               .order_by(OrderLine.id))


def _moves_warehouse(event: WriteEvent) -> bool:
    before = event.before or {}
    return "warehouse_id" in event.changes and \
        event.changes["warehouse_id"] != before.get("warehouse_id")


@on_write("orders.order", actions=("update",), when="before")
def warehouse_changes_only_before_shipping(ctx: Context, event: WriteEvent) -> None:
    """Refuse a new warehouse for an order that shipped from (or closed in) its own."""
    before = event.before or {}
    if _moves_warehouse(event) and before.get("state") not in (NOTHING_RESERVED
                                                                | RESERVATIONS_MOVE):
        raise ConflictError(
            f"order {before.get('number')} is {before.get('state')}: its warehouse can change"
            " only until it starts shipping (draft, review, confirmed or on hold)")


@on_write("orders.order", actions=("update",), when="after")
def move_reservations(ctx: Context, event: WriteEvent) -> None:
    """Release the order's reservations in the old warehouse and reserve its open
    quantities in the new one, in the update's transaction."""
    before, after = event.before or {}, event.after or {}
    old, new = before.get("warehouse_id"), after.get("warehouse_id")
    if old == new or after.get("state") not in RESERVATIONS_MOVE:
        return
    system = ctx.as_principal(Principal.system(f"orders for {ctx.principal.name}"))
    lines = ctx.session.execute(_OPEN_LINES, {"order": event.record_id}).all()
    for line_id, _product, _open in lines:
        release(system, origin=line_origin(line_id))
    try:
        reserve(system, new, [ReservationLine(product_id, quantity, line_origin(line_id))
                              for line_id, product_id, quantity in lines if quantity > 0])
    except InsufficientStock as exc:
        raise ConflictError(f"order {after.get('number')} stays in its warehouse: its"
                            f" reservations cannot move, {exc.message}") from None
