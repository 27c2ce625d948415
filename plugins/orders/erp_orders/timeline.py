"""An order's timeline (ORD-4): everything that happened to it and its lines, in order.

Its entries are the kernel's audit entries (``kernel.audit_entry``: ``id``, ``at``,
``principal``, ``user_id``, ``entity``, ``record_id``, ``action``, ``changes``), the
same shape as ``GET /orders/{id}/history`` gives for the order alone: the timeline is
that history with the order lines' entries woven in.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from erp_orders.order import OrderLine
from erp_sdk import Context, Principal


def order_timeline(ctx: Context, order_id: int) -> list[dict[str, Any]]:
    """Audit entries of the order and its lines, oldest first; needs read access to it."""
    ctx.records("orders.order").get(order_id)
    line_ids = list(ctx.session.scalars(sa.select(OrderLine.id).where(
        OrderLine.order_id == order_id)))
    audit = ctx.as_principal(Principal.system()).records("kernel.audit_entry")
    entries = audit.list([("entity", "orders.order"), ("record_id", str(order_id)),
                          ("limit", "500")])["items"]
    if line_ids:
        entries += audit.list([("entity", "orders.order_line"),
                               ("record_id__in", ",".join(map(str, line_ids))),
                               ("limit", "500")])["items"]
    return sorted(entries, key=lambda e: e["id"])
