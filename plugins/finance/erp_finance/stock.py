"""Stock in the books: every inventory move is booked once, at the cost the move recorded.

The inventory plugin writes each move with its unit cost (the moving average for goods
leaving, the purchase cost for goods arriving). Finance books a move by where it goes:

| from -> to | debit | credit |
|---|---|---|
| warehouse -> customer (a sale) | cost of goods sold | stock |
| customer -> warehouse (a return) | stock, at the move's cost | cost of goods sold (*) |
| customer -> damaged | damaged goods written off | cost of goods sold (cost they went out at) |
| supplier -> warehouse (a purchase) | stock | goods received not invoiced |
| adjustment <-> warehouse (counts, corrections) | stock / stock variance | stock variance / stock |
| warehouse <-> transit (transfers) | goods in transit / stock | stock / goods in transit |
| warehouse -> damaged | damaged goods written off | stock |
| warehouse -> other warehouse | stock (to) | stock (from) |
| cost adjustment (late freight, duty) | stock (on hand) / cost of goods sold (gone) | GRNI |

(*) the cost the goods went out at on that order; the difference to the move's cost goes
to cost differences.

A cost adjustment (freight or duty that reached goods after their receipt, see
``erp_inventory.cost_adjustments``) is booked in the transaction that made it; its
credit waits on goods received not invoiced for the bill that brings the cost. So the
stock accounts always hold what the inventory ledger says its goods are worth:
``inventory_valuation`` sums the same moves and adjustments the same way, and the two
are equal at any date. A move is claimed in ``finance_stock_booking`` (an insert that
does nothing when another transaction claimed it first) before it is booked, so it is
booked once under any concurrency. Documents book the moves they made in their own transaction (by
origin); the ``finance.book_stock_moves`` job books any other (receipts and adjustments
made through inventory's routes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from erp_finance.accounts import AccountRole, role_accounts
from erp_finance.ledger import (
    EntryDraft,
    LineDraft,
    PostedEntry,
    PreparedEntry,
    post_entry,
    post_prepared,
    prepare_entry,
)
from erp_finance.money import ZERO, cents
from erp_inventory.cost_adjustments import CostAdjustment
from erp_inventory.ledger import Move
from erp_inventory.warehouses import INTERNAL_KINDS, Location, LocationKind
from erp_orders.order import Order, OrderLine
from erp_orders.returns import ReturnLine
from erp_sdk import Base, Upsert

STOCK_JOURNAL = "STK"
VALUED_KINDS = {*INTERNAL_KINDS, LocationKind.TRANSIT}
"""Locations whose goods are assets of the seller: warehouses and goods in transit."""


class StockBooking(Base):
    """A move booked by finance (claimed once, whatever the concurrency)."""

    __tablename__ = "finance_stock_booking"

    move_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_move.id"), primary_key=True)


class CostAdjustmentBooking(Base):
    """A cost adjustment booked by finance (claimed once, like a move)."""

    __tablename__ = "finance_cost_adjustment_booking"

    adjustment_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_cost_adjustment.id"),
                                               primary_key=True)


_CLAIM = Upsert(lambda insert: insert(StockBooking.__table__).on_conflict_do_nothing()
                .returning(StockBooking.__table__.c.move_id))
_CLAIM_ADJUSTMENT = Upsert(lambda insert: insert(CostAdjustmentBooking.__table__)
                           .on_conflict_do_nothing()
                           .returning(CostAdjustmentBooking.__table__.c.adjustment_id))

_SOURCE, _TARGET = aliased(Location), aliased(Location)
_MOVES = (sa.select(Move.id, Move.product_id, Move.quantity, Move.unit_cost, Move.done_at,
                    Move.origin, _SOURCE.kind.label("source_kind"),
                    _SOURCE.warehouse_id.label("source_warehouse"),
                    _TARGET.kind.label("target_kind"),
                    _TARGET.warehouse_id.label("target_warehouse"))
          .join(_SOURCE, _SOURCE.id == Move.from_location_id)
          .join(_TARGET, _TARGET.id == Move.to_location_id))
_UNBOOKED = ~sa.exists().where(StockBooking.move_id == Move.id)
_UNBOOKED_OF = (_MOVES.where(Move.origin.in_(sa.bindparam("origins", expanding=True)), _UNBOOKED)
                .order_by(Move.id))
"""Built once: a statement built per call costs its analysis (cache key, tables read)
on every execution."""


def move_value(quantity: Decimal, unit_cost: Decimal) -> Decimal:
    """What a move is worth in the books: quantity x the move's unit cost, to the cent."""
    return cents(quantity * unit_cost)


def _claim(session: Session, move_ids: Sequence[int]) -> set[int]:
    if not move_ids:
        return set()
    return {row.move_id for row in session.execute(
        _CLAIM.on(session), [{"move_id": move_id} for move_id in move_ids])}


_OUTGOING = (sa.select(Move.quantity, Move.unit_cost)
             .where(Move.origin == sa.bindparam("origin"),
                    Move.product_id == sa.bindparam("product")))
"""Summed here, not in SQL: the exact decimal columns are scaled integers on SQLite, so a
product of two of them in SQL would not be a decimal."""


def _return_context(session: Session, origin: str | None) -> dict[str, Any]:
    """For a move from a return line: the order, its channel, and the cost per unit at
    which that product went out on that order."""
    if not origin or not origin.startswith("orders.return_line:"):
        return {}
    found = session.execute(
        sa.select(OrderLine.order_id, OrderLine.product_id, Order.channel_id)
        .join(ReturnLine, ReturnLine.order_line_id == OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(ReturnLine.id == int(origin.split(":", 1)[1]))).first()
    if found is None:
        return {}
    shipped = session.execute(_OUTGOING, {"origin": f"orders.order:{found.order_id}",
                                          "product": found.product_id}).all()
    quantity = sum((row.quantity for row in shipped), ZERO)
    unit = sum((row.quantity * row.unit_cost for row in shipped), ZERO) / quantity \
        if quantity else None
    return {"order_id": found.order_id, "channel_id": found.channel_id, "out_unit_cost": unit}


def _order_context(session: Session, origin: str | None) -> dict[str, Any]:
    if not origin or not origin.startswith("orders.order:"):
        return {}
    order_id = int(origin.split(":", 1)[1])
    order = session.get(Order, order_id)  # mostly held by the session already
    return {"order_id": order_id, "channel_id": order.channel_id if order else None}


def _context(session: Session, move: Any, known: dict[tuple[bool, str | None], Any]
             ) -> dict[str, Any]:
    """The order (and channel) a move to or from a customer belongs to, read once per
    origin in ``known`` (a shipment's moves share theirs)."""
    if move.source_kind == LocationKind.CUSTOMER:
        key, read = (True, move.origin), _return_context
    elif move.target_kind == LocationKind.CUSTOMER:
        key, read = (False, move.origin), _order_context
    else:
        return {}
    if key not in known:
        known[key] = read(session, move.origin)
    return known[key]


def _lines_for(move: Any, roles: dict[str, int], context: dict[str, Any]) -> list[LineDraft]:
    value = move_value(move.quantity, move.unit_cost)
    source, target = move.source_kind, move.target_kind
    source_valued, target_valued = source in VALUED_KINDS, target in VALUED_KINDS
    dims = {"product_id": move.product_id, "order_id": context.get("order_id"),
            "channel_id": context.get("channel_id")}

    def stock_account(kind: str) -> int:
        return roles[AccountRole.GOODS_IN_TRANSIT if kind == LocationKind.TRANSIT
                     else AccountRole.STOCK]

    def line(role_or_account: int, amount: Decimal, warehouse: int | None, debit: bool
             ) -> LineDraft:
        return LineDraft(role_or_account, debit=amount if debit else ZERO,
                         credit=ZERO if debit else amount, warehouse_id=warehouse,
                         label=f"move {move.id}", **dims)

    if source_valued and target_valued:
        if stock_account(source) == stock_account(target) \
                and move.source_warehouse == move.target_warehouse:
            return []
        return [line(stock_account(target), value, move.target_warehouse, True),
                line(stock_account(source), value, move.source_warehouse, False)]
    if not source_valued and not target_valued:
        if source == LocationKind.CUSTOMER and target == LocationKind.DAMAGED:
            out = cents(move.quantity * context["out_unit_cost"]) \
                if context.get("out_unit_cost") is not None else value
            return [line(roles[AccountRole.STOCK_WRITE_OFF], out, None, True),
                    line(roles[AccountRole.COST_OF_GOODS_SOLD], out, None, False)]
        return []
    if target_valued:  # goods arriving from outside
        if source == LocationKind.CUSTOMER:
            out = cents(move.quantity * context["out_unit_cost"]) \
                if context.get("out_unit_cost") is not None else value
            lines = [line(stock_account(target), value, move.target_warehouse, True),
                     line(roles[AccountRole.COST_OF_GOODS_SOLD], out, move.target_warehouse,
                          False)]
            if value != out:
                lines.append(line(roles[AccountRole.COST_DIFFERENCE], abs(value - out),
                                  move.target_warehouse, value < out))
            return lines
        counterpart = {LocationKind.SUPPLIER: AccountRole.GOODS_RECEIVED_NOT_INVOICED,
                       LocationKind.DAMAGED: AccountRole.STOCK_WRITE_OFF,
                       }.get(source, AccountRole.STOCK_VARIANCE)
        return [line(stock_account(target), value, move.target_warehouse, True),
                line(roles[counterpart], value, move.target_warehouse, False)]
    counterpart = {LocationKind.CUSTOMER: AccountRole.COST_OF_GOODS_SOLD,
                   LocationKind.SUPPLIER: AccountRole.GOODS_RECEIVED_NOT_INVOICED,
                   LocationKind.DAMAGED: AccountRole.STOCK_WRITE_OFF,
                   }.get(target, AccountRole.STOCK_VARIANCE)
    return [line(roles[counterpart], value, move.source_warehouse, True),
            line(stock_account(source), value, move.source_warehouse, False)]


def book_moves(session: Session, moves: Sequence[Any], ref: str | None = None
               ) -> list[PostedEntry]:
    """Claim and book moves (rows of ``_MOVES``): one entry per day of the moves."""
    return post_prepared(session, [(entry, None) for entry in prepare_moves(session, moves, ref)])


def prepare_moves(session: Session, moves: Sequence[Any], ref: str | None = None
                  ) -> list[PreparedEntry]:
    """``book_moves`` up to the postings: the moves claimed, their entries (one per day)
    checked and ready to post (``ledger.post_prepared``)."""
    claimed = _claim(session, [move.id for move in moves])
    roles = role_accounts(session)
    known: dict[tuple[bool, str | None], Any] = {}
    by_day: dict[dt.date, list[LineDraft]] = {}
    for move in moves:
        if move.id not in claimed or not move.quantity or not move.unit_cost:
            continue
        lines = _lines_for(move, roles, _context(session, move, known))
        if lines:
            by_day.setdefault(move.done_at.date(), []).extend(lines)
    origin = moves[0].origin if len({m.origin for m in moves}) == 1 else None
    return [prepare_entry(session, EntryDraft(STOCK_JOURNAL, day, lines,
                                              ref=ref or "stock moves", origin=origin))
            for day, lines in sorted(by_day.items())]


def book_moves_of(session: Session, origins: Sequence[str]) -> list[PostedEntry]:
    """Book the not yet booked moves of these origins (a document's own moves)."""
    return post_prepared(session, [(entry, None) for entry in prepare_moves_of(session, origins)])


def prepare_moves_of(session: Session, origins: Sequence[str]) -> list[PreparedEntry]:
    """``book_moves_of`` up to the postings (see ``prepare_moves``)."""
    moves = session.execute(_UNBOOKED_OF, {"origins": list(origins)}).all()
    return prepare_moves(session, moves, ref=", ".join(origins)[:120]) if moves else []


def book_cost_adjustments(session: Session, adjustments: Sequence[CostAdjustment]
                          ) -> list[PostedEntry]:
    """Claim and book cost adjustments, one entry each: the value added to the units on
    hand to stock, the share of the units gone to cost of goods sold, both against goods
    received not invoiced (a negative adjustment the other way round)."""
    if not adjustments:
        return []
    claimed = {row.adjustment_id for row in session.execute(
        _CLAIM_ADJUSTMENT.on(session), [{"adjustment_id": a.id} for a in adjustments])}
    roles = role_accounts(session)
    posted = []
    for adjustment in adjustments:
        if adjustment.id not in claimed:
            continue
        lines = []
        for role, amount in ((AccountRole.STOCK, cents(adjustment.value)),
                             (AccountRole.COST_OF_GOODS_SOLD, cents(adjustment.value_gone))):
            if amount:
                debit, credit = (amount, ZERO) if amount > 0 else (ZERO, -amount)
                label = f"cost adjustment {adjustment.id}"
                lines += [LineDraft(roles[role], debit=debit, credit=credit, label=label,
                                    product_id=adjustment.product_id),
                          LineDraft(roles[AccountRole.GOODS_RECEIVED_NOT_INVOICED],
                                    debit=credit, credit=debit, label=label,
                                    product_id=adjustment.product_id)]
        if lines:
            posted.append(post_entry(session, EntryDraft(
                STOCK_JOURNAL, adjustment.done_at.date(), lines,
                ref=adjustment.origin or "cost adjustment",
                origin=f"inventory.cost_adjustment:{adjustment.id}")))
    return posted


_UNBOOKED_ADJUSTMENT = ~sa.exists().where(
    CostAdjustmentBooking.adjustment_id == CostAdjustment.id)


def book_pending_moves(session: Session, limit: int = 5000) -> int:
    """Book every move and cost adjustment nobody booked yet (oldest first); returns how
    many were booked."""
    moves = session.execute(_MOVES.where(_UNBOOKED).order_by(Move.id).limit(limit)).all()
    book_moves(session, moves)
    adjustments = session.scalars(sa.select(CostAdjustment).where(_UNBOOKED_ADJUSTMENT)
                                  .order_by(CostAdjustment.id).limit(limit)).all()
    book_cost_adjustments(session, adjustments)
    return len(moves) + len(adjustments)


def inventory_valuation(session: Session, at: dt.datetime | None = None) -> Decimal:
    """What the inventory ledger's goods in warehouses and in transit are worth: every
    move's value in, less every move's value out, plus what cost adjustments added to the
    units on hand, up to ``at`` (each move valued as ``move_value``)."""
    query = session.execute(_MOVES.where(Move.done_at <= at) if at else _MOVES)
    total = ZERO
    for move in query:
        value = move_value(move.quantity, move.unit_cost)
        if move.target_kind in VALUED_KINDS:
            total += value
        if move.source_kind in VALUED_KINDS:
            total -= value
    added = sa.select(CostAdjustment.value)
    for value in session.scalars(added.where(CostAdjustment.done_at <= at) if at else added):
        total += cents(value)
    return total
