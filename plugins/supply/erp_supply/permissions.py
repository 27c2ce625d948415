"""Who may do what in supply: buyers, managers, and suppliers through the portal.

A supplier user holds ``supply.supplier_portal`` with the scope ``supplier_id=[N]``: the
record rules below narrow every supply entity it can read to its own supplier, and it
holds no permission outside supply. Lines have no supplier column: their rule follows
the order, bill or notice they belong to.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from erp_sdk import Permission, RecordRule, Role

PORTAL = "supply.supplier_portal"
SCOPE = "supplier_id"


def _own(table: sa.Table, principal: Any) -> list[int]:
    return sorted(principal.scope.get(SCOPE, ()))


def _through(parent: str, column: str) -> Any:
    """A rule for a line table: its parent (``column`` -> ``parent``.id) is the
    supplier's."""

    def condition(table: sa.Table, principal: Any) -> Any:
        allowed = _own(table, principal)
        if not allowed:
            return sa.false()
        parents = sa.table(parent, sa.column("id"), sa.column("supplier_id"))
        return table.c[column].in_(sa.select(parents.c.id).where(
            parents.c.supplier_id.in_(allowed)))

    return condition


DECLARATIONS = [
    Permission("supply.purchase_order.receive", "Receive goods of a purchase order"),
    Permission("supply.bill.match", "Match a bill three ways: approve it or hold it"),
    Permission("supply.replenishment.run", "Run replenishment and propose purchase orders"),
    Permission("supply.rating.read", "See supplier ratings in reports"),
    Role("supply.buyer", [
        "supply.supplier.*", "supply.supplier_product.*", "supply.price_break.*",
        "supply.price_paid.read", "kernel.exchange_rate.*", "supply.purchase_order.*",
        "supply.purchase_order_line.*", "supply.receipt.read", "supply.receipt_line.read",
        "supply.shipping_notice.*", "supply.shipping_notice_line.*", "supply.bill.read",
        "supply.bill.create", "supply.bill.update", "supply.bill_line.*", "supply.bill.match",
        "supply.bill.approve", "supply.bill.hold", "supply.bill.revise", "supply.bill.cancel",
        "supply.reorder_rule.*", "supply.suggestion.read", "supply.replenishment.run",
        "supply.rating.read", "inventory.product.read", "inventory.warehouse.read",
    ], "Buys: suppliers, prices, purchase orders, receipts, bills, replenishment"),
    Role("supply.manager", ["supply.*", "inventory.product.read", "inventory.warehouse.read"],
         "Everything in supply, including releasing held bills and posting bills"),
    Role(PORTAL, [
        "supply.supplier.read", "supply.supplier_product.read", "supply.price_break.read",
        "supply.purchase_order.read", "supply.purchase_order_line.read",
        "supply.purchase_order.confirm",
        "supply.shipping_notice.read", "supply.shipping_notice.create",
        "supply.shipping_notice.update", "supply.shipping_notice_line.read",
        "supply.shipping_notice_line.create", "supply.shipping_notice_line.update",
        "supply.shipping_notice_line.delete",
        "supply.bill.read", "supply.bill.create", "supply.bill.update",
        "supply.bill_line.read", "supply.bill_line.create", "supply.bill_line.update",
        "supply.bill_line.delete",
    ], "A supplier's user: its purchase orders, shipping notices and bills, nothing else"),
    RecordRule.in_scope("supply.supplier", PORTAL, "id", SCOPE),
    RecordRule.in_scope("supply.supplier_product", PORTAL, SCOPE),
    RecordRule("supply.price_break", PORTAL, _through("supply_supplier_product",
                                                       "supplier_product_id"),
               "price breaks of the supplier's products"),
    RecordRule.in_scope("supply.purchase_order", PORTAL, SCOPE),
    RecordRule("supply.purchase_order_line", PORTAL,
               _through("supply_purchase_order", "order_id"), "lines of the supplier's orders"),
    RecordRule.in_scope("supply.shipping_notice", PORTAL, SCOPE),
    RecordRule("supply.shipping_notice_line", PORTAL,
               _through("supply_shipping_notice", "notice_id"),
               "lines of the supplier's notices"),
    RecordRule.in_scope("supply.bill", PORTAL, SCOPE),
    RecordRule("supply.bill_line", PORTAL, _through("supply_bill", "bill_id"),
               "lines of the supplier's bills"),
]
