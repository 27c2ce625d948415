"""Splitting an order and merging orders (ORD-3), keeping quantities, money and stock exact.

Every operation is one transaction: it runs in the caller's ``Context`` and either all
of it is kept or none of it.

Lines. A line moved whole keeps its row (and so its id, its history, its reservation and
any fields other plugins keep beside it); only its ``order_id`` changes. A line cut in
two keeps its row for the units that stay and gets a new row for the units that go.

Discounts. When a line is cut, the discount that goes with ``q`` of its ``Q`` units is
``discount * q / Q`` rounded half up to the cent; the rest of the discount stays. The
two parts add up to the original discount exactly, whatever the rounding.

Amounts. Both orders are recomputed with the house rule (``erp_orders.money``: per line,
half up). Moving whole lines therefore never changes a cent. Cutting a line can: the
rule rounds each part's net and tax, and the rounded parts need not add up to the
rounded whole (3 x 19.99 at 20 % tax is 11.99 of tax; 1 + 2 units are 4.00 + 8.00).
With cent prices and whole quantities the nets (and so subtotals and discounts) always
add up exactly; the tax may then differ by at most a cent per cut line. A split
returns that difference (``rounding_difference``: the resulting orders' totals minus
the original total) and records it in its audit row and event, so nothing changes
silently. Merging never cuts lines, so a merge keeps every cent.

Reservations. They belong to lines (origin ``orders.order_line:<id>``). Lines moved whole
in the same warehouse keep theirs untouched. For a cut line (and for lines that change
warehouse) what the line held is released and its open quantity reserved again under
the right origins, in the same transaction: the released units are there to take, so
stock is never oversold and the reserve fails only if the stock vanished (nothing is
kept then).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_inventory.ledger import StockLevel
from erp_inventory.reservations import ReservationLine, release, reserve
from erp_inventory.warehouses import Warehouse
from erp_orders.fulfilment import line_origin
from erp_orders.money import to_cents
from erp_orders.order import ADDRESS_FIELDS, Order, OrderLine, OrderState
from erp_orders.totals import recompute_totals
from erp_sdk import ConflictError, Context, Principal, ValidationError

ORDER = "orders.order"
SPLIT_PERMISSION = "orders.order.split"
MERGE_PERMISSION = "orders.order.merge"
UNSHIPPED_STATES = (OrderState.DRAFT, OrderState.REVIEW, OrderState.CONFIRMED,
                    OrderState.ON_HOLD)
RESERVED_STATES = (OrderState.CONFIRMED, OrderState.ON_HOLD)
QUANTITY_QUANTUM = Decimal("0.0001")
ZERO = Decimal(0)


def _decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@attrs.frozen
class LineSplit:
    """Move ``quantity`` units of line ``line_id`` to the new order."""

    line_id: int
    quantity: Decimal = attrs.field(converter=_decimal)


@attrs.frozen
class SplitResult:
    """The order split, the order made from it, and what per-line rounding changed:
    ``rounding_difference`` = both orders' totals minus the original total."""

    source_id: int
    order_id: int
    rounding_difference: Decimal


@attrs.frozen
class AvailabilitySplit:
    """Every order that now serves the original one, the original first, with the
    warehouse serving it; ``created_ids`` are the new orders (empty when the order's own
    warehouse serves every line and nothing was split)."""

    order_ids: tuple[int, ...]
    created_ids: tuple[int, ...]
    warehouses: Mapping[int, int]
    rounding_difference: Decimal


@attrs.frozen
class MergeResult:
    order_id: int
    merged_ids: tuple[int, ...]


@attrs.frozen
class LineNeed:
    """What an availability plan must place: ``quantity`` of a product for a line."""

    line_id: int
    product_id: int
    quantity: Decimal


def split_discount(discount: Decimal, quantity: Decimal, moved: Decimal) -> Decimal:
    """The part of a line's ``discount`` that goes with ``moved`` of its ``quantity`` units:
    proportional, rounded half up to the cent (all of it when the whole line moves)."""
    if moved == quantity:
        return discount
    return to_cents(discount * moved / quantity)


def _on_behalf(ctx: Context) -> Context:
    """The system acting for the caller, for writes the caller's split or merge permission
    already authorised (creating the new order, moving reservations)."""
    return ctx.as_principal(Principal.system(f"orders for {ctx.principal.name}"))


def _lock_order(ctx: Context, order_id: int) -> Order:
    """The order's row, locked until the transaction ends (404 if the caller cannot see it)."""
    ctx.records(ORDER).get(order_id, lock=True)
    return ctx.session.get(Order, order_id, populate_existing=True)  # type: ignore[return-value]


def _lines(ctx: Context, order_id: int) -> list[OrderLine]:
    return list(ctx.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id)
                                    .order_by(OrderLine.id)))


def _snapshot(ctx: Context, order_id: int) -> dict[str, Any]:
    ctx.session.flush()
    return dict(ctx.records(ORDER).get(order_id))


def _require_unshipped(order: Order, lines: Iterable[OrderLine], doing: str) -> None:
    if order.state not in UNSHIPPED_STATES:
        raise ConflictError(f"order {order.number} is {order.state}: only an unshipped order"
                            f" (draft, review, confirmed or on hold) can be {doing}")
    if any(line.quantity_shipped > 0 for line in lines):
        raise ConflictError(f"order {order.number} has started shipping: it cannot be {doing}")


def _requested_moves(lines: Mapping[int, OrderLine], asked: Sequence[LineSplit],
                     number: str | None) -> dict[int, Decimal]:
    if not asked:
        raise ValidationError("say which lines to split off: lines [{line_id, quantity}]",
                              {"lines": "empty"})
    moves: dict[int, Decimal] = {}
    for index, item in enumerate(asked):
        field = f"lines[{index}]"
        line = lines.get(item.line_id)
        if line is None:
            raise ValidationError(f"line {item.line_id} is not on order {number}",
                                  {f"{field}.line_id": "not on this order"})
        quantity = item.quantity
        if not quantity.is_finite() or quantity != quantity.quantize(QUANTITY_QUANTUM):
            raise ValidationError(f"line {item.line_id}: quantities have at most four decimals",
                                  {f"{field}.quantity": "too many decimals"})
        already = moves.get(item.line_id, ZERO)
        if not ZERO < quantity <= line.quantity - already:
            raise ValidationError(
                f"line {item.line_id} ({line.sku}) has {line.quantity.normalize():f} units;"
                f" split off between 0 and {(line.quantity - already).normalize():f}",
                {f"{field}.quantity": "out of range"})
        moves[item.line_id] = already + quantity
    if all(moves.get(line_id) == line.quantity for line_id, line in lines.items()):
        raise ValidationError(f"that is all of order {number}; leave at least one unit on it",
                              {"lines": "nothing would stay"})
    return moves


def _reserve_again(ctx: Context, warehouse_id: int, held: Sequence[OrderLine],
                   new: Sequence[OrderLine] = ()) -> None:
    """Release what the ``held`` lines hold and reserve the open quantity of every line
    (held and ``new``) in ``warehouse_id``, in this transaction."""
    system = _on_behalf(ctx)
    for line in held:
        release(system, origin=line_origin(line.id))
    reserve(system, warehouse_id, [
        ReservationLine(line.product_id, line.quantity - line.quantity_shipped,
                        line_origin(line.id))
        for line in (*held, *new) if line.quantity > line.quantity_shipped])


def _split_off(ctx: Context, source: Order, lines: Mapping[int, OrderLine],
               moves: Mapping[int, Decimal], warehouse_id: int) -> tuple[int, Decimal]:
    """Move ``moves`` (line id -> units) of ``source`` to a new order served by
    ``warehouse_id``; returns the new order's id and what per-line rounding changed.
    Audits and announces both sides."""
    before = _snapshot(ctx, source.id)
    created = _on_behalf(ctx).records(ORDER).create({
        "channel_id": source.channel_id, "customer_id": source.customer_id,
        "warehouse_id": warehouse_id, "currency": source.currency, "notes": source.notes,
        "shipping_amount": "0",
        **{f"ship_{k}": getattr(source, f"ship_{k}") for k in ADDRESS_FIELDS},
        **{f"bill_{k}": getattr(source, f"bill_{k}") for k in ADDRESS_FIELDS},
    })
    order_id = created["id"]
    ctx.session.execute(sa.update(Order).where(Order.id == order_id).values(
        state=source.state, split_from_id=source.id, review_reasons=source.review_reasons,
        placed_at=source.placed_at))
    whole: list[OrderLine] = []
    cut: list[tuple[OrderLine, OrderLine]] = []
    moved: list[dict[str, Any]] = []
    for line_id, quantity in moves.items():
        line = lines[line_id]
        if quantity == line.quantity:
            line.order_id = order_id
            line.version += 1
            whole.append(line)
            moved.append({"line_id": line.id, "quantity": f"{quantity:f}", "to_line_id": line.id})
            continue
        discount = split_discount(line.discount, line.quantity, quantity)
        part = OrderLine(order_id=order_id, product_id=line.product_id, sku=line.sku,
                         description=line.description, quantity=quantity,
                         unit_price=line.unit_price, discount=discount,
                         tax_rate=line.tax_rate, quantity_shipped=ZERO,
                         quantity_returned=ZERO, version=1)
        ctx.session.add(part)
        line.quantity -= quantity
        line.discount -= discount
        line.version += 1
        cut.append((line, part))
    ctx.session.flush()
    moved += [{"line_id": line.id, "quantity": f"{part.quantity:f}", "to_line_id": part.id}
              for line, part in cut]
    if source.state in RESERVED_STATES:
        # Split by hand keeps the warehouse, so whole lines keep their reservations.
        changed = [line for line in whole if warehouse_id != source.warehouse_id]
        if cut or changed:
            _reserve_again(ctx, warehouse_id, [*(line for line, _ in cut), *changed],
                           [part for _, part in cut])
    recompute_totals(ctx, source.id)
    recompute_totals(ctx, order_id)
    source.version += 1
    after, new = _snapshot(ctx, source.id), _snapshot(ctx, order_id)
    difference = Decimal(after["total"]) + Decimal(new["total"]) - Decimal(before["total"])
    split = {"split_to": order_id, "moved_lines": moved,
             "rounding_difference": f"{difference:f}"}
    ctx.audit(ORDER, source.id, "split", {**before, **dict.fromkeys(split)}, {**after, **split})
    ctx.audit(ORDER, order_id, "split_from", created,
              {**new, "moved_lines": moved, "rounding_difference": f"{difference:f}"})
    ctx.emit("orders.order.split", ORDER, source.id,
             {"id": source.id, "order_id": order_id, "lines": moved, "record": after,
              "new_record": new, "rounding_difference": f"{difference:f}"})
    return order_id, difference


def split_order(ctx: Context, order_id: int, lines: Sequence[LineSplit]) -> SplitResult:
    """Move chosen lines and quantities of an unshipped order to a new order.

    The new order has the same customer, channel, addresses, currency, warehouse, notes
    and state (a draft stays a draft; a confirmed order's part is confirmed, with its
    stock reserved) and ``split_from_id`` pointing at the source; shipping stays on the
    source. Needs ``orders.order.split``.
    """
    ctx.principal.require(SPLIT_PERMISSION)
    source = _lock_order(ctx, order_id)
    order_lines = {line.id: line for line in _lines(ctx, order_id)}
    _require_unshipped(source, order_lines.values(), "split")
    moves = _requested_moves(order_lines, lines, source.number)
    new_id, difference = _split_off(ctx, source, order_lines, moves, source.warehouse_id)
    return SplitResult(order_id, new_id, difference)


class Unservable(ConflictError):
    """No combination of warehouses holds enough stock (``shortfalls``: product id ->
    missing units)."""

    title = "Not enough stock in any combination of warehouses"

    def __init__(self, shortfalls: Mapping[int, Decimal], message: str | None = None) -> None:
        super().__init__(message or "not enough stock in all warehouses together: " + ", ".join(
            f"product {product} short by {gap.normalize():f}"
            for product, gap in sorted(shortfalls.items())))
        self.shortfalls = dict(shortfalls)


def plan_by_availability(needs: Sequence[LineNeed],
                         available: Mapping[int, Mapping[int, Decimal]],
                         home: int | None = None) -> dict[int, dict[int, Decimal]]:
    """Which warehouse serves how much of which line: ``{warehouse: {line: quantity}}``.

    Greedy: repeatedly take the warehouse that can serve the most remaining lines in full
    (ties: ``home``, then more units, then the lower id); when no warehouse can serve any
    remaining line in full, cut lines, taking the warehouse that can serve the most units.
    Raises ``ConflictError`` naming each product's shortfall when the warehouses together
    do not hold enough. ``available`` maps warehouse -> product -> units available.
    """
    left = {w: dict(stock) for w, stock in available.items()}
    wanted: dict[int, Decimal] = {}
    for need in needs:
        wanted[need.product_id] = wanted.get(need.product_id, ZERO) + need.quantity
    shortfalls = {product: quantity - sum((stock.get(product, ZERO) for stock in left.values()),
                                          ZERO)
                  for product, quantity in wanted.items()}
    shortfalls = {product: gap for product, gap in shortfalls.items() if gap > 0}
    if shortfalls:
        raise Unservable(shortfalls)
    remaining = {need.line_id: need.quantity for need in needs}
    plan: dict[int, dict[int, Decimal]] = {}

    def take(warehouse: int, need: LineNeed, quantity: Decimal) -> None:
        left[warehouse][need.product_id] = left[warehouse].get(need.product_id, ZERO) - quantity
        remaining[need.line_id] -= quantity
        share = plan.setdefault(warehouse, {})
        share[need.line_id] = share.get(need.line_id, ZERO) + quantity

    while any(remaining.values()):
        best: tuple[Any, ...] | None = None
        for warehouse in sorted(left):
            stock, full, units = dict(left[warehouse]), [], ZERO
            for need in needs:
                quantity = remaining[need.line_id]
                if quantity and stock.get(need.product_id, ZERO) >= quantity:
                    stock[need.product_id] -= quantity
                    full.append(need)
                    units += quantity
            key = (len(full), warehouse == home, units, -warehouse)
            if full and (best is None or key > best[0]):
                best = (key, warehouse, full)
        if best is not None:
            for need in best[2]:
                take(best[1], need, remaining[need.line_id])
            continue
        servable = {w: sum((min(remaining[n.line_id], stock.get(n.product_id, ZERO))
                            for n in needs if remaining[n.line_id]), ZERO)
                    for w, stock in left.items()}
        warehouse = max(sorted(servable), key=lambda w: (servable[w], w == home, -w))
        for need in needs:
            quantity = min(remaining[need.line_id], left[warehouse].get(need.product_id, ZERO))
            if quantity > 0:
                take(warehouse, need, quantity)
    return plan


def _availability(ctx: Context, product_ids: Iterable[int]) -> dict[int, dict[int, Decimal]]:
    """Units available per active warehouse and product (from ``inventory.stock_level``)."""
    available: dict[int, dict[int, Decimal]] = {
        w: {} for w in ctx.session.scalars(sa.select(Warehouse.id).where(Warehouse.active))}
    rows = ctx.session.execute(sa.select(StockLevel.warehouse_id, StockLevel.product_id,
                                         StockLevel.available)
                               .where(StockLevel.product_id.in_(set(product_ids)),
                                      StockLevel.available > 0))
    for warehouse, product, quantity in rows:
        if warehouse in available:
            available[warehouse][product] = quantity
    return available


def split_by_availability(ctx: Context, order_id: int) -> AvailabilitySplit:
    """Split a draft order into one order per warehouse that can serve part of it.

    The order keeps the share of its own warehouse (or, when that warehouse serves none
    of it, of the first warehouse chosen, which becomes its warehouse); every other
    warehouse gets a new order split from it. An order its warehouse serves in full is
    left as it is. Stock is read, not reserved: confirming each order reserves it.
    Needs ``orders.order.split``.
    """
    ctx.principal.require(SPLIT_PERMISSION)
    source = _lock_order(ctx, order_id)
    lines = {line.id: line for line in _lines(ctx, order_id)}
    if source.state != OrderState.DRAFT:
        raise ConflictError(f"order {source.number} is {source.state}: only a draft order is"
                            " split by availability (its stock is not reserved yet)")
    if not lines:
        raise ValidationError(f"order {source.number} has no lines", {"lines": "empty"})
    needs = [LineNeed(line.id, line.product_id, line.quantity) for line in lines.values()]
    try:
        plan = plan_by_availability(needs, _availability(ctx, (n.product_id for n in needs)),
                                    source.warehouse_id)
    except Unservable as exc:
        skus = {line.product_id: line.sku or str(line.product_id) for line in lines.values()}
        raise Unservable(exc.shortfalls, f"no combination of warehouses can serve order"
                         f" {source.number}: " + ", ".join(
                             f"{skus[product]} short by {gap.normalize():f}"
                             for product, gap in sorted(exc.shortfalls.items()))) from None
    keep = source.warehouse_id if source.warehouse_id in plan else next(iter(plan))
    if keep != source.warehouse_id:
        before = _snapshot(ctx, source.id)
        source.warehouse_id = keep
        source.version += 1
        ctx.audit(ORDER, source.id, "allocated", before, _snapshot(ctx, source.id))
    others = [warehouse for warehouse in plan if warehouse != keep]
    splits = [_split_off(ctx, source, lines, plan[warehouse], warehouse) for warehouse in others]
    created = tuple(order for order, _ in splits)
    return AvailabilitySplit(
        order_ids=(order_id, *created), created_ids=created,
        warehouses={order_id: keep, **dict(zip(created, others, strict=True))},
        rounding_difference=sum((difference for _, difference in splits), ZERO))


def merge_orders(ctx: Context, order_ids: Sequence[int], into: int | None = None
                 ) -> MergeResult:
    """Merge unshipped orders of one customer, channel, currency and shipping address into
    ``into`` (default: the oldest of them).

    The surviving order takes every line as it is (lines are never combined, so no
    rounding changes: the total is the sum of the totals) and the shipping amounts. The
    others are left empty, point at it through ``merged_into_id``, keep their external
    references and history, and fire ``merge`` last, so their timelines end with it. All
    orders must be in the same state: a merge neither skips a review nor releases a
    confirmed order's stock. Needs ``orders.order.merge``.
    """
    ctx.principal.require(MERGE_PERMISSION)
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    if len(ids) < 2:
        raise ValidationError("merging needs at least two different orders",
                              {"order_ids": "at least two"})
    survivor_id = min(ids) if into is None else into
    if survivor_id not in ids:
        raise ValidationError(f"order {survivor_id} to merge into is not among the orders",
                              {"into": "not among order_ids"})
    orders = {order_id: _lock_order(ctx, order_id) for order_id in sorted(ids)}
    lines = {order_id: _lines(ctx, order_id) for order_id in ids}
    survivor = orders[survivor_id]
    for order in orders.values():
        _require_unshipped(order, lines[order.id], "merged")
        for field, label in (("customer_id", "customer"), ("channel_id", "channel"),
                             ("currency", "currency"), ("state", "state"),
                             *((f"ship_{k}", "shipping address") for k in ADDRESS_FIELDS)):
            if getattr(order, field) != getattr(survivor, field):
                raise ConflictError(
                    f"orders {survivor.number} and {order.number} differ in {label}: only"
                    " orders of one customer, channel, currency, shipping address and state"
                    " can be merged")
    others = [orders[i] for i in sorted(ids) if i != survivor_id]
    before = _snapshot(ctx, survivor_id)
    elsewhere: list[OrderLine] = []
    reasons = list(survivor.review_reasons or [])
    notes = [survivor.notes] if survivor.notes else []
    for order in others:
        for line in lines[order.id]:
            line.order_id = survivor_id
            line.version += 1
            if order.warehouse_id != survivor.warehouse_id:
                elsewhere.append(line)
        survivor.shipping_amount += order.shipping_amount
        order.shipping_amount = ZERO
        order.merged_into_id = survivor_id
        reasons += [r for r in order.review_reasons or [] if r not in reasons]
        reference = f", ref {order.external_reference}" if order.external_reference else ""
        notes.append(f"Merged {order.number}{reference}"
                     + (f": {order.notes}" if order.notes else ""))
    survivor.notes = "\n".join(notes)
    survivor.review_reasons = reasons or None
    ctx.session.flush()
    if elsewhere and survivor.state in RESERVED_STATES:
        _reserve_again(ctx, survivor.warehouse_id, elsewhere)
    for order in orders.values():
        recompute_totals(ctx, order.id)
    survivor.version += 1
    ctx.session.flush()
    merged = [order.id for order in others]
    for order in others:
        ctx.fire(ORDER, order.id, "merge", {
            "merged_into_id": survivor_id, "merged_into": survivor.number,
            "lines": [line.id for line in lines[order.id]]})
        ctx.session.expire(order)
    after = _snapshot(ctx, survivor_id)
    ctx.audit(ORDER, survivor_id, "merged_in", {**before, "merged_ids": None},
              {**after, "merged_ids": merged})
    ctx.emit("orders.order.merged_in", ORDER, survivor_id,
             {"id": survivor_id, "merged_ids": merged, "record": after})
    return MergeResult(survivor_id, tuple(merged))


def merged_orders(ctx: Context, order_id: int) -> list[dict[str, Any]]:
    """The orders merged into this one, directly or through an order merged into it, with
    their channels and external references (oldest first). Needs read access to it."""
    ctx.records(ORDER).get(order_id)
    found: list[Order] = []
    frontier = [order_id]
    while frontier:
        batch = list(ctx.session.scalars(sa.select(Order).where(
            Order.merged_into_id.in_(frontier))))
        found += batch
        frontier = [order.id for order in batch]
    return [{"id": order.id, "number": order.number, "channel_id": order.channel_id,
             "external_reference": order.external_reference,
             "merged_into_id": order.merged_into_id, "placed_at": order.placed_at.isoformat()
             if order.placed_at else None}
            for order in sorted(found, key=lambda order: order.id)]
