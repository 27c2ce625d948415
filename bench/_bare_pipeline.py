"""The order flow written directly in SQLAlchemy Core: the stack's own ceiling.

The same five transactions per order as the ``inprocess`` mode (place, confirm with
reservation, ship with its invoice and postings, complete, payment) on the same tables,
but with nothing of the ERP around them: no kernel, no ORM session, no permission checks,
hooks, JSON records, review rules or alerts; every statement built once; one audit row
and one event per order transaction, one audit row for the payment. What remains is the
SQL an order needs, sent by the stack the product is built on, so ``orders_per_s`` of the
other modes divided by this one says how much the product itself costs, measured in the
same command on the same machine.

The books are written as a careful hand would: each entry takes its gapless number by
updating its journal's sequence row in the posting transaction (the row stays locked
until the commit, so concurrent posters queue there), chains its SHA-256 hash to the
previous entry's, writes its lines and adds them to the per-period balances. Shipping
claims the moves for the books and posts the cost of goods sold against stock (STK),
then posts the invoice (receivable against revenue per line and output tax, SAL) and
writes it with its lines; the payment posts bank against receivable (BNK), records the
payment and matches it with the invoice, both rows locked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from erp_core.audit import AuditEntry
from erp_core.events.outbox import OutboxEvent
from erp_crm.purchases import Purchase
from erp_finance.invoices import Invoice, InvoiceLine
from erp_finance.journals import JournalSequence
from erp_finance.ledger import Entry, EntryLine, PeriodBalance
from erp_finance.payments import Payment, PaymentMatch
from erp_finance.stock import StockBooking
from erp_inventory.ledger import Balance, Move, StockLevel
from erp_inventory.reservations import Reservation
from erp_orders.order import Order, OrderLine

ORDER, LINE, RESERVATION = Order.__table__, OrderLine.__table__, Reservation.__table__
STOCK, MOVE, BALANCE = StockLevel.__table__, Move.__table__, Balance.__table__
SEQUENCE, ENTRY, ENTRY_LINE = JournalSequence.__table__, Entry.__table__, EntryLine.__table__
PERIOD_BALANCE, BOOKING = PeriodBalance.__table__, StockBooking.__table__
INVOICE, INVOICE_LINE = Invoice.__table__, InvoiceLine.__table__
PAYMENT, PAYMENT_MATCH = Payment.__table__, PaymentMatch.__table__
B = sa.bindparam
CENT = Decimal("0.01")


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
        self.insert_moves = sa.insert(MOVE).returning(MOVE.c.id, sort_by_parameter_order=True)
        self.consume = (sa.update(RESERVATION).where(RESERVATION.c.id == B("reservation"))
                        .values(remaining=0, state="consumed"))
        self.shipped = (sa.update(LINE).where(LINE.c.id == B("line"))
                        .values(quantity_shipped=B("q", type_=LINE.c.quantity.type)))
        self.purchase = sa.insert(Purchase.__table__)
        self.claim = sa.insert(BOOKING)
        self.take_number = (sa.update(SEQUENCE)
                            .where(SEQUENCE.c.journal_id == B("journal"),
                                   SEQUENCE.c.fiscal_year_id == B("year"))
                            .values(next_number=SEQUENCE.c.next_number + 1)
                            .returning(SEQUENCE.c.next_number, SEQUENCE.c.last_hash))
        self.set_head = (sa.update(SEQUENCE)
                         .where(SEQUENCE.c.journal_id == B("journal"),
                                SEQUENCE.c.fiscal_year_id == B("year"))
                         .values(last_hash=B("head")))
        self.insert_entry = sa.insert(ENTRY).returning(ENTRY.c.id)
        self.insert_entry_lines = sa.insert(ENTRY_LINE)
        add = insert(PERIOD_BALANCE)
        self.add_balances = add.on_conflict_do_update(
            index_elements=[PERIOD_BALANCE.c.account_id, PERIOD_BALANCE.c.period_id],
            set_={"debit": PERIOD_BALANCE.c.debit + add.excluded.debit,
                  "credit": PERIOD_BALANCE.c.credit + add.excluded.credit})
        self.insert_invoice = sa.insert(INVOICE).returning(INVOICE.c.id)
        self.insert_invoice_lines = sa.insert(INVOICE_LINE)
        self.insert_payment = sa.insert(PAYMENT).returning(PAYMENT.c.id)
        open_invoice = (sa.select(INVOICE.c.id, INVOICE.c.residual)
                        .where(INVOICE.c.order_id == B("order"), INVOICE.c.kind == "invoice",
                               INVOICE.c.residual > 0))
        self.lock_invoice = open_invoice.with_for_update() if lock else open_invoice
        money = INVOICE.c.residual.type
        self.settle_invoice = (sa.update(INVOICE).where(INVOICE.c.id == B("invoice"))
                               .values(residual=INVOICE.c.residual - B("paid", type_=money),
                                       state=sa.case((INVOICE.c.residual
                                                      == B("paid", type_=money), "paid"),
                                                     else_=INVOICE.c.state),
                                       version=INVOICE.c.version + 1))
        self.settle_payment = (sa.update(PAYMENT).where(PAYMENT.c.id == B("payment"))
                               .values(unmatched=PAYMENT.c.unmatched - B("paid", type_=money),
                                       version=PAYMENT.c.version + 1))
        self.insert_match = sa.insert(PAYMENT_MATCH)
        self.audit = sa.insert(AuditEntry.__table__)
        self.event = sa.insert(OutboxEvent.__table__)


def order_flow(engine: sa.Engine, setup: dict[str, Any]) -> Callable[[int, Any], None]:
    """One order through the four transactions, on a connection the caller keeps."""
    s = Statements(engine.dialect.name)
    warehouse, channel = setup["warehouse"], setup["channel"]
    storage, customer_location = setup["storage_location"], setup["customer_location"]
    customer, roles = setup["customer"], setup["roles"]
    period, year, year_name = setup["period"], setup["fiscal_year"], setup["fiscal_year_name"]

    def post(conn: sa.Connection, journal: str, day: dt.date, lines: list[dict[str, Any]],
             ref: str | None, origin: str | None) -> tuple[int, str]:
        """Post a balanced entry: its number and the chain's head from the journal's
        sequence row (locked until the commit), the entry, its lines, and the per-period
        balances of its accounts. Returns the entry's id and name."""
        journal_id = setup["journals"][journal]
        taken = conn.execute(s.take_number, {"journal": journal_id, "year": year}).one()
        number = taken.next_number - 1
        name = f"{journal}/{year_name}/{number:06d}"
        text = "".join(f"|{line['account_id']}:{line['debit']}:{line['credit']}"
                       for line in lines)
        digest = hashlib.sha256(f"{taken.last_hash}|{journal}|{name}|{day}|EUR{text}"
                                .encode()).hexdigest()
        conn.execute(s.set_head, {"journal": journal_id, "year": year, "head": digest})
        entry_id = conn.execute(s.insert_entry, {
            "journal_id": journal_id, "fiscal_year_id": year, "period_id": period,
            "number": number, "name": name, "date": day, "currency": "EUR", "ref": ref,
            "origin": origin, "previous_hash": taken.last_hash, "hash": digest,
            "posted_at": dt.datetime.now(dt.UTC)}).scalar_one()
        conn.execute(s.insert_entry_lines, [
            {"entry_id": entry_id, "sequence": index, "date": day, "period_id": period,
             "currency": "EUR", "amount_currency": line["debit"] - line["credit"],
             **LINE_DEFAULTS, **line} for index, line in enumerate(lines)])
        totals: dict[int, list[Decimal]] = {}
        for line in lines:
            total = totals.setdefault(line["account_id"], [Decimal(0), Decimal(0)])
            total[0] += line["debit"]
            total[1] += line["credit"]
        conn.execute(s.add_balances, [
            {"account_id": account, "period_id": period, "debit": debit, "credit": credit}
            for account, (debit, credit) in sorted(totals.items())])
        return entry_id, name

    def debit(account: int, amount: Decimal, **extra: Any) -> dict[str, Any]:
        return {"account_id": account, "debit": amount, "credit": ZERO, **extra}

    def credit(account: int, amount: Decimal, **extra: Any) -> dict[str, Any]:
        return {"account_id": account, "debit": ZERO, "credit": amount, **extra}

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
        today = now.date()
        rate = Decimal(setup["tax_rate"])
        priced = [(product, Decimal(quantity), cents(Decimal(quantity) * PRICE))
                  for product, quantity in lines]
        taxed = [(product, quantity, net, cents(net * rate)) for product, quantity, net in priced]
        untaxed = sum(net for _, _, net, _ in taxed)
        tax = sum(line_tax for _, _, _, line_tax in taxed)
        with conn.begin():
            order_id = conn.execute(s.insert_order, {
                "channel_id": channel, "customer_id": customer,
                "warehouse_id": warehouse, "currency": "EUR", "state": "draft", "version": 1,
                "subtotal": untaxed, "tax_total": tax, "total": untaxed + tax,
                "placed_at": now, "created_at": now, "updated_at": now}).scalar_one()
            conn.execute(s.number, {"order": order_id, "new_number": f"SO-{order_id:06d}"})
            conn.execute(s.insert_lines, [
                {"order_id": order_id, "product_id": product, "sku": f"P{product}",
                 "quantity": quantity, "unit_price": PRICE, "tax_rate": rate,
                 "line_net": net, "line_tax": line_tax, "line_total": net + line_tax,
                 "quantity_shipped": Decimal(0), "quantity_returned": Decimal(0),
                 "version": 1, "created_at": now, "updated_at": now}
                for product, quantity, net, line_tax in taxed])
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
            order = step(conn, order_id, "confirmed", "shipped")
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
            origin = f"orders.order:{order_id}"
            moves = conn.execute(s.insert_moves, [
                {"product_id": r.product_id, "quantity": r.remaining,
                 "from_location_id": storage, "to_location_id": customer_location,
                 "state": "done", "unit_cost": UNIT_COST, "done_at": now,
                 "origin": origin, "reason": None} for r in reserved]).scalars().all()
            conn.execute(s.consume, [{"reservation": r.id} for r in reserved])
            conn.execute(s.shipped, [{"line": row.id, "q": row.quantity} for row in rows])
            # The books: the moves claimed, their cost of goods sold against stock, then
            # the invoice of what was shipped, receivable against revenue and tax.
            conn.execute(s.claim, [{"move_id": move} for move in moves])
            dims = {"order_id": order_id, "channel_id": channel}
            cost = []
            for move, held in zip(moves, reserved, strict=True):
                value = cents(held.remaining * UNIT_COST)
                cost += [debit(roles["cogs"], value, product_id=held.product_id,
                               warehouse_id=warehouse, label=f"move {move}", **dims),
                         credit(roles["stock"], value, product_id=held.product_id,
                                warehouse_id=warehouse, label=f"move {move}", **dims)]
            post(conn, "STK", today, cost, origin, origin)
            dims["warehouse_id"] = warehouse
            sale = [credit(roles["sales"], net, product_id=product, label=f"P{product}", **dims)
                    for product, _, net, _ in taxed]
            sale += [credit(roles["output_tax"], tax, label="tax", **dims),
                     debit(roles["receivable"], untaxed + tax, partner_id=customer,
                           label=order.number, **dims)]
            entry_id, name = post(conn, "SAL", today, sale, order.number, origin)
            invoice_id = conn.execute(s.insert_invoice, {
                "number": name, "kind": "invoice", "state": "open", "customer_id": customer,
                "order_id": order_id, "channel_id": channel, "warehouse_id": warehouse,
                "currency": "EUR", "rate": Decimal(1), "date": today,
                "due_date": today + dt.timedelta(days=30), "untaxed": untaxed, "tax": tax,
                "total": untaxed + tax, "residual": untaxed + tax, "entry_id": entry_id,
                "posted_at": now}).scalar_one()
            conn.execute(s.insert_invoice_lines, [
                {"invoice_id": invoice_id, "order_line_id": row.id, "product_id": product,
                 "description": f"P{product}", "quantity": quantity, "tax_rate": rate,
                 "net": net, "tax": line_tax, "account_id": roles["sales"],
                 "tax_account_id": roles["output_tax"]}
                for row, (product, quantity, net, line_tax) in zip(rows, taxed, strict=True)])
            journal(conn, order_id, "shipped")
        with conn.begin():
            order = step(conn, order_id, "shipped", "completed")
            conn.execute(s.purchase, {"reference": order.number, "customer_id": order.customer_id,
                                      "amount": order.total, "currency": "EUR",
                                      "occurred_at": now, "recorded_at": now,
                                      "updated_at": now})
            journal(conn, order_id, "completed")
        with conn.begin():  # the customer pays the order; the payment settles the invoice
            amount = order.total
            entry_id, name = post(conn, "BNK", today, [
                debit(roles["bank"], amount, label=order.number),
                credit(roles["receivable"], amount, partner_id=customer, label=order.number)],
                order.number, None)
            payment_id = conn.execute(s.insert_payment, {
                "number": name, "direction": "received", "customer_id": customer,
                "amount": amount, "currency": "EUR", "rate": Decimal(1), "date": today,
                "account_id": roles["bank"], "reference": order.number, "unmatched": amount,
                "entry_id": entry_id}).scalar_one()
            invoice = conn.execute(s.lock_invoice, {"order": order_id}).one()
            conn.execute(s.settle_invoice, {"invoice": invoice.id, "paid": amount})
            conn.execute(s.settle_payment, {"payment": payment_id, "paid": amount})
            conn.execute(s.insert_match, {"payment_id": payment_id, "invoice_id": invoice.id,
                                          "amount": amount, "matched_at": now})
            conn.execute(s.audit, {"at": now, "principal": "bench", "user_id": None,
                                   "entity": "finance.payment", "record_id": payment_id,
                                   "action": "record", "changes": {"number": name}})

    return run


PRICE, UNIT_COST, ZERO = Decimal("9.99"), Decimal("3.10"), Decimal(0)
LINE_DEFAULTS = {"label": None, "partner_id": None, "channel_id": None, "warehouse_id": None,
                 "order_id": None, "product_id": None}
"""Every entry line names every column, so the lines of an entry are one executemany."""


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


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
