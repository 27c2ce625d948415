"""The order flow written directly in SQLAlchemy Core: the stack's own ceiling.

The same four transactions per order as the ``inprocess`` mode (place, confirm with
reservation, ship, complete) on the same tables, but with nothing of the ERP around
them: no kernel, no ORM session, no permission checks, hooks, JSON records, review
rules or alerts; every statement built once; one audit row and one event per
transaction. What remains is the SQL an order needs, sent by the stack the product is
built on, so ``orders_per_s`` of the other modes divided by this one says how much the
product itself costs, measured in the same command on the same machine.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from erp_core.audit import AuditEntry
from erp_core.events.outbox import OutboxEvent
from erp_crm.purchases import Purchase
from erp_inventory.ledger import Balance, Move, StockLevel
from erp_inventory.reservations import Reservation
from erp_orders.order import Order, OrderLine

ORDER, LINE, RESERVATION = Order.__table__, OrderLine.__table__, Reservation.__table__
STOCK, MOVE, BALANCE = StockLevel.__table__, Move.__table__, Balance.__table__
B = sa.bindparam


class Statements:
    """Every statement of the flow, built once for one dialect."""

    def __init__(self, dialect: str) -> None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        lock = dialect == "postgresql"
        self.insert_order = sa.insert(ORDER).returning(ORDER.c.id)
        self.number = (sa.update(ORDER).where(ORDER.c.id == B("order"))
                       .values(number=B("new_number")))
        self.insert_lines = sa.insert(LINE)
        by_id = sa.select(ORDER.c.state, ORDER.c.warehouse_id, ORDER.c.customer_id,
                          ORDER.c.number, ORDER.c.total).where(ORDER.c.id == B("order"))
        self.lock_order = by_id.with_for_update() if lock else by_id
        self.lines = (sa.select(LINE.c.id, LINE.c.product_id, LINE.c.quantity)
                      .where(LINE.c.order_id == B("order")).order_by(LINE.c.id))
        self.state = (sa.update(ORDER).where(ORDER.c.id == B("order"), ORDER.c.state == B("old"))
                      .values(state=B("new"), version=ORDER.c.version + 1))
        self.insert_reservations = sa.insert(RESERVATION)
        self.stock = (sa.update(STOCK)
                      .where(STOCK.c.product_id == B("product"),
                             STOCK.c.warehouse_id == B("warehouse"),
                             STOCK.c.available >= B("need", type_=STOCK.c.available.type))
                      .values(on_hand=STOCK.c.on_hand + B("d_hand", type_=STOCK.c.on_hand.type),
                              reserved=STOCK.c.reserved + B("d_res", type_=STOCK.c.on_hand.type),
                              available=STOCK.c.available
                              + B("d_avail", type_=STOCK.c.on_hand.type))
                      .returning(STOCK.c.available))
        reservations = (sa.select(RESERVATION.c.id, RESERVATION.c.product_id,
                                  RESERVATION.c.remaining)
                        .where(RESERVATION.c.origin.in_(B("origins", expanding=True)))
                        .order_by(RESERVATION.c.product_id))
        self.lock_reservations = reservations.with_for_update() if lock else reservations
        self.take = (sa.update(BALANCE)
                     .where(BALANCE.c.product_id == B("product"),
                            BALANCE.c.location_id == B("location"))
                     .values(quantity=BALANCE.c.quantity - B("q", type_=BALANCE.c.quantity.type)))
        upsert = insert(BALANCE)
        self.give = upsert.on_conflict_do_update(
            index_elements=[BALANCE.c.product_id, BALANCE.c.location_id],
            set_={"quantity": BALANCE.c.quantity + upsert.excluded.quantity})
        self.insert_moves = sa.insert(MOVE)
        self.consume = (sa.update(RESERVATION).where(RESERVATION.c.id == B("reservation"))
                        .values(remaining=0, state="consumed"))
        self.shipped = (sa.update(LINE).where(LINE.c.id == B("line"))
                        .values(quantity_shipped=B("q", type_=LINE.c.quantity.type)))
        self.purchase = sa.insert(Purchase.__table__)
        self.audit = sa.insert(AuditEntry.__table__)
        self.event = sa.insert(OutboxEvent.__table__)


def order_flow(engine: sa.Engine, setup: dict[str, Any]) -> Callable[[int, Any], None]:
    """One order through the four transactions, on a connection the caller keeps."""
    s = Statements(engine.dialect.name)
    warehouse, channel = setup["warehouse"], setup["channel"]
    storage, customer_location = setup["storage_location"], setup["customer_location"]

    def journal(conn: sa.Connection, order_id: int, action: str) -> None:
        now = dt.datetime.now(dt.UTC)
        conn.execute(s.audit, {"at": now, "principal": "bench", "user_id": None,
                               "entity": "orders.order", "record_id": order_id,
                               "action": action, "changes": {"state": action}})
        conn.execute(s.event, {"name": f"orders.order.{action}", "entity": "orders.order",
                               "record_id": order_id, "payload": {"id": order_id},
                               "created_at": now})

    def step(conn: sa.Connection, order_id: int, old: str, new: str) -> Any:
        row = conn.execute(s.lock_order, {"order": order_id}).one()
        if conn.execute(s.state, {"order": order_id, "old": old, "new": new}).rowcount != 1:
            raise RuntimeError(f"order {order_id} is not {old}")
        return row

    def run(number: int, lines: Any, conn: sa.Connection) -> None:
        now = dt.datetime.now(dt.UTC)
        with conn.begin():
            order_id = conn.execute(s.insert_order, {
                "channel_id": channel, "customer_id": setup["customer"],
                "warehouse_id": warehouse, "currency": "EUR", "state": "draft", "version": 1,
                "total": Decimal("59.94"), "placed_at": now, "created_at": now,
                "updated_at": now}).scalar_one()
            conn.execute(s.number, {"order": order_id, "new_number": f"SO-{order_id:06d}"})
            conn.execute(s.insert_lines, [
                {"order_id": order_id, "product_id": product, "sku": f"P{product}",
                 "quantity": Decimal(quantity), "unit_price": Decimal("9.99"),
                 "quantity_shipped": Decimal(0), "quantity_returned": Decimal(0),
                 "version": 1, "created_at": now, "updated_at": now}
                for product, quantity in lines])
            journal(conn, order_id, "created")
        with conn.begin():
            step(conn, order_id, "draft", "confirmed")
            rows = conn.execute(s.lines, {"order": order_id}).all()
            conn.execute(s.insert_reservations, [
                {"product_id": row.product_id, "warehouse_id": warehouse,
                 "quantity": row.quantity, "remaining": row.quantity,
                 "origin": f"orders.order_line:{row.id}", "state": "active", "version": 1,
                 "created_at": now, "updated_at": now} for row in rows])
            for row in sorted(rows, key=lambda r: r.product_id):
                if conn.execute(s.stock, {"product": row.product_id, "warehouse": warehouse,
                                          "need": row.quantity, "d_hand": 0,
                                          "d_res": row.quantity, "d_avail": -row.quantity}
                                ).first() is None:
                    raise RuntimeError("insufficient stock")
            journal(conn, order_id, "confirmed")
        with conn.begin():
            step(conn, order_id, "confirmed", "shipped")
            reserved = conn.execute(s.lock_reservations, {
                "origins": [f"orders.order_line:{row.id}" for row in rows]}).all()
            for held in reserved:
                conn.execute(s.stock, {"product": held.product_id, "warehouse": warehouse,
                                       "need": 0, "d_hand": -held.remaining,
                                       "d_res": -held.remaining, "d_avail": 0})
            conn.execute(s.take, [{"product": r.product_id, "location": storage,
                                   "q": r.remaining} for r in reserved])
            conn.execute(s.give, [{"product_id": r.product_id, "location_id": customer_location,
                                   "quantity": r.remaining} for r in reserved])
            conn.execute(s.insert_moves, [
                {"product_id": r.product_id, "quantity": r.remaining,
                 "from_location_id": storage, "to_location_id": customer_location,
                 "state": "done", "unit_cost": Decimal("3.10"), "done_at": now,
                 "origin": f"orders.order:{order_id}", "reason": None} for r in reserved])
            conn.execute(s.consume, [{"reservation": r.id} for r in reserved])
            conn.execute(s.shipped, [{"line": row.id, "q": row.quantity} for row in rows])
            journal(conn, order_id, "shipped")
        with conn.begin():
            order = step(conn, order_id, "shipped", "completed")
            conn.execute(s.purchase, {"reference": order.number, "customer_id": order.customer_id,
                                      "amount": order.total, "currency": "EUR",
                                      "occurred_at": now, "recorded_at": now,
                                      "updated_at": now})
            journal(conn, order_id, "completed")

    return run


class ConnectionPerThread:
    """Each worker thread keeps one connection, as a client with a pool would."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.local = threading.local()
        self.opened: list[sa.Connection] = []
        self.lock = threading.Lock()

    def __call__(self) -> sa.Connection:
        if not hasattr(self.local, "connection"):
            self.local.connection = self.engine.connect()
            with self.lock:
                self.opened.append(self.local.connection)
        return self.local.connection

    def close(self) -> None:
        for connection in self.opened:
            connection.close()
