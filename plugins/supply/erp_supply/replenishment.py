"""Replenishment: which products to buy, how many, and from whom, each suggestion with
the figures that explain it.

For each active reorder rule (product and warehouse):

- **velocity** = units shipped from the warehouse to customers over the rule's last
  ``velocity_days``, per day; the explanation splits it per sales channel (the plugin that
  shipped names the channel through the hook ``erp_supply_sales_channels``), and a rule
  with ``channels`` counts only the shipments of those channels;
- **lead time** L = the supplier's declared lead time in days; its standard deviation
  sigma_L is measured from the lead times of past receipts of the product from that
  supplier (sample standard deviation, 0 with fewer than two receipts);
- **safety stock** = z x velocity x sigma_L (z is the rule's ``service_factor``);
- **reorder point** = velocity x L + safety stock, **target** = reorder point + velocity x
  ``review_days`` (a fixed rule takes its ``minimum`` and ``maximum`` instead);
- **position** = available (on hand - reserved) + what open purchase orders bring within
  the lead time; goods due later do not count, so a far-future order cannot hide a
  stockout;
- when the position is at or below the reorder point, the quantity brings the position
  to the **target** (not merely back to the reorder point), rounded up to whole units and
  to the supplier's minimum order quantity.

The supplier is the one with the lowest landed unit cost in the company currency (its
price break for the quantity, plus duty and freight, at today's exchange rate) among
those whose lead time is within the rule's ``max_lead_time_days`` and does not exceed the
days the available stock lasts at the current velocity; when none is fast enough, the
fastest. The data is read with a fixed number of set-based queries whatever the number of
rules (stock, velocity, incoming orders, lead-time statistics, offers), and suggestions
and purchase-order lines are written in batches.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_inventory.ledger import Move, StockLevel
from erp_inventory.warehouses import Location, LocationKind
from erp_sdk import (
    Base,
    Context,
    Money,
    Principal,
    Quantity,
    UtcDateTime,
    insert_rows,
    utcnow,
)
from erp_supply.currencies import rates_on, to_company
from erp_supply.purchase_orders import OPEN_STATES, PurchaseOrder, PurchaseOrderLine, line_amount
from erp_supply.receipts import Receipt, ReceiptLine
from erp_supply.reorder_rules import ReorderMethod, ReorderRule
from erp_supply.suppliers import Offer, longest_lead_times, offers

ZERO = Decimal(0)
QUANTUM = Decimal("0.0001")
UNIT = Decimal(1)


class SuggestionState(enum.StrEnum):
    PROPOSED = "proposed"
    ORDERED = "ordered"


class Suggestion(Base):
    """One replenishment proposal and everything it was computed from."""

    __tablename__ = "supply_suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[UtcDateTime] = mapped_column(default=utcnow, index=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_reorder_rule.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_supplier.id"), index=True)
    quantity: Mapped[Quantity]
    unit_price: Mapped[Money]
    currency: Mapped[str] = mapped_column(sa.String(3))
    landed_unit_cost: Mapped[Money]
    velocity: Mapped[Quantity] = mapped_column(info={"description": "Units shipped per day"})
    lead_time_days: Mapped[int]
    safety_stock: Mapped[Quantity]
    reorder_point: Mapped[Quantity]
    target: Mapped[Quantity]
    on_hand: Mapped[Quantity]
    reserved: Mapped[Quantity]
    incoming: Mapped[Quantity] = mapped_column(
        info={"description": "Due on open purchase orders within the lead time"})
    position: Mapped[Quantity]
    state: Mapped[str] = mapped_column(sa.String(16), default=SuggestionState.PROPOSED,
                                       index=True)
    purchase_order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supply_purchase_order.id"))
    explanation: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


def q(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_UP)


@attrs.frozen
class LeadTimeStats:
    """Lead times of past receipts: how many, their sum and the sum of their squares."""

    samples: int
    total: int
    squares: int
    stddev: Decimal = attrs.field(init=False)

    @stddev.default
    def _sample_standard_deviation(self) -> Decimal:
        if self.samples < 2:
            return ZERO
        n = Decimal(self.samples)
        variance = (Decimal(self.squares) - Decimal(self.total) ** 2 / n) / (n - 1)
        return max(variance, ZERO).sqrt()


NO_SAMPLES = LeadTimeStats(0, 0, 0)


@attrs.frozen
class Candidate:
    """One supplier's answer to a rule: its figures, its quantity and landed cost."""

    offer: Offer
    lead_time: LeadTimeStats
    safety_stock: Decimal
    reorder_point: Decimal
    target: Decimal
    incoming: Decimal
    incoming_later: Decimal
    window_end: dt.date
    position: Decimal
    needed: Decimal
    quantity: Decimal
    unit_price: Decimal
    rate: Decimal | None
    landed_unit_cost: Decimal | None
    meets_lead_time: bool

    def as_json(self, chosen: bool) -> dict[str, Any]:
        return {
            "supplier_id": self.offer.supplier_id,
            "supplier_product_id": self.offer.supplier_product_id,
            "lead_time_days": self.offer.lead_time_days,
            "meets_lead_time": self.meets_lead_time,
            "minimum_order_quantity": str(self.offer.minimum_order_quantity),
            "quantity": str(self.quantity), "unit_price": str(self.unit_price),
            "currency": self.offer.currency,
            "exchange_rate": None if self.rate is None else str(self.rate),
            "freight_per_unit": str(self.offer.freight_per_unit),
            "duty_rate": str(self.offer.duty_rate),
            "landed_unit_cost": _text(self.landed_unit_cost),
            "landed_total": _text(None if self.landed_unit_cost is None
                                  else q(self.landed_unit_cost * self.quantity)),
            "chosen": chosen}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@attrs.frozen
class RuleInput:
    rule: Any
    on_hand: Decimal
    reserved: Decimal
    shipped: Decimal
    incoming: Sequence[tuple[dt.date | None, Decimal]]


def plan_rule(data: RuleInput, candidates: Sequence[Offer],
              lead_times: dict[tuple[int, int], LeadTimeStats], rates: dict[str, Decimal],
              today: dt.date, *, explain: bool = True
              ) -> tuple[Candidate | None, list[Candidate], dict[str, Any]]:
    """The suggestion for one rule: the chosen candidate (None: nothing to order), every
    candidate, and the explanation. Pure arithmetic, so worked examples test it.

    Without ``explain``, a rule whose available stock alone is above every supplier's
    reorder point is answered at once (nothing to order, no explanation): in a large run
    most rules are, and they need not be priced."""
    rule = data.rule
    velocity = data.shipped / Decimal(rule.velocity_days)
    available = data.on_hand - data.reserved
    if not explain and candidates and available > _highest_reorder_point(
            rule, velocity, candidates, lead_times):
        return None, [], {}
    cover_days = (available / velocity) if velocity > 0 else None
    evaluated = []
    for offer in candidates:
        stats = lead_times.get((offer.supplier_id, rule.product_id), NO_SAMPLES)
        lead = Decimal(offer.lead_time_days)
        if rule.method == ReorderMethod.FIXED:
            safety, reorder_point, target = ZERO, rule.minimum, rule.maximum
        else:
            safety = Decimal(rule.service_factor) * velocity * stats.stddev
            reorder_point = velocity * lead + safety
            target = reorder_point + velocity * Decimal(rule.review_days)
        window_end = today + dt.timedelta(days=offer.lead_time_days)
        incoming = sum((quantity for due, quantity in data.incoming
                        if due is None or due <= window_end), ZERO)
        incoming_later = sum((quantity for due, quantity in data.incoming
                              if due is not None and due > window_end), ZERO)
        position = available + incoming
        needed = target - position if position <= reorder_point else ZERO
        quantity = ZERO
        if needed > 0:
            quantity = max(needed.to_integral_value(rounding=ROUND_CEILING),
                           offer.minimum_order_quantity)
        unit_price = offer.unit_price(quantity or offer.minimum_order_quantity)
        rate = rates.get(offer.currency)
        landed = None if rate is None else to_company(
            unit_price * (1 + offer.duty_rate) + offer.freight_per_unit, rate)
        meets = (rule.max_lead_time_days is None or offer.lead_time_days
                 <= rule.max_lead_time_days) and (cover_days is None or lead <= cover_days)
        evaluated.append(Candidate(offer, stats, safety, reorder_point, target, incoming,
                                   incoming_later, window_end, position, needed, quantity,
                                   unit_price, rate, landed, meets))
    priced = [c for c in evaluated if c.landed_unit_cost is not None]
    fast_enough = [c for c in priced if c.meets_lead_time]
    reasons = []
    if not priced:
        reasons.append("no supplier offers this product at a price in a currency with a rate")
        pool: list[Candidate] = []
    elif fast_enough:
        pool = fast_enough
        reasons.append(f"{len(fast_enough)} of {len(priced)} suppliers deliver within the lead"
                       " time allowed; the lowest landed unit cost is chosen")
    else:
        fastest = min(c.offer.lead_time_days for c in priced)
        pool = [c for c in priced if c.offer.lead_time_days == fastest]
        reasons.append("no supplier delivers before the stock runs out: the fastest is chosen")
    best = min(pool, key=lambda c: (c.landed_unit_cost, c.offer.lead_time_days,
                                    c.offer.supplier_id)) if pool else None
    chosen = best if best is not None and best.quantity > 0 else None
    if not explain and chosen is None:
        return None, evaluated, {}
    explanation = {
        "rule": {"id": rule.id, "method": rule.method,
                 "minimum": _text(rule.minimum), "maximum": _text(rule.maximum),
                 "velocity_days": rule.velocity_days, "review_days": rule.review_days,
                 "service_factor": str(rule.service_factor),
                 "max_lead_time_days": rule.max_lead_time_days},
        "velocity": {"shipped": str(data.shipped), "days": rule.velocity_days,
                     "per_day": str(q(velocity)),
                     "stock_lasts_days": None if cover_days is None else str(q(cover_days))},
        "stock": {"on_hand": str(data.on_hand), "reserved": str(data.reserved),
                  "available": str(available)},
        "suppliers": [c.as_json(c is best) for c in evaluated],
        "reasons": reasons,
    }
    if best is not None:
        explanation.update({
            "lead_time": {"days": best.offer.lead_time_days,
                          "stddev_days": str(q(best.lead_time.stddev)),
                          "receipts_measured": best.lead_time.samples},
            "safety_stock": str(q(best.safety_stock)),
            "reorder_point": str(q(best.reorder_point)), "target": str(q(best.target)),
            "incoming": {"within_lead_time": str(best.incoming),
                         "beyond_lead_time": str(best.incoming_later),
                         "window_end": best.window_end.isoformat()},
            "position": str(q(best.position)),
            "order": {"needed": str(q(best.needed)),
                      "minimum_order_quantity": str(best.offer.minimum_order_quantity),
                      "quantity": str(best.quantity)}})
        if rule.method == ReorderMethod.COMPUTED:
            explanation["formulas"] = {
                "safety_stock": f"z x velocity x lead-time stddev = {rule.service_factor} x"
                                f" {q(velocity)} x {q(best.lead_time.stddev)}",
                "reorder_point": f"velocity x lead time + safety stock = {q(velocity)} x"
                                 f" {best.offer.lead_time_days} + {q(best.safety_stock)}",
                "target": f"reorder point + velocity x review days = {q(best.reorder_point)}"
                          f" + {q(velocity)} x {rule.review_days}"}
        if best.quantity > 0:
            reasons.append(f"position {q(best.position)} is at or below the reorder point"
                           f" {q(best.reorder_point)}: order {best.quantity} to reach the"
                           f" target {q(best.target)}")
        else:
            reasons.append(f"position {q(best.position)} is above the reorder point"
                           f" {q(best.reorder_point)}: nothing to order")
    return chosen, evaluated, explanation


def _highest_reorder_point(rule: Any, velocity: Decimal, candidates: Sequence[Offer],
                           lead_times: dict[tuple[int, int], LeadTimeStats]) -> Decimal:
    """The largest reorder point any candidate could give (the position is never below
    the available stock, so above it no candidate orders)."""
    if rule.method == ReorderMethod.FIXED:
        return rule.minimum
    if not velocity:
        return ZERO
    longest = max(offer.lead_time_days for offer in candidates)
    widest = max(lead_times.get((offer.supplier_id, rule.product_id), NO_SAMPLES).stddev
                 for offer in candidates)
    return velocity * (longest + Decimal(rule.service_factor) * widest)


# -- reading, set-based ------------------------------------------------------------------

def _rules(session: Session, product_ids: Sequence[int] | None,
           warehouse_id: int | None) -> list[Any]:
    query = (sa.select(*ReorderRule.__table__.c).where(ReorderRule.active.is_(True))
             .order_by(ReorderRule.id))
    if product_ids is not None:
        query = query.where(ReorderRule.product_id.in_(product_ids))
    if warehouse_id is not None:
        query = query.where(ReorderRule.warehouse_id == warehouse_id)
    return list(session.execute(query))


def _stock(session: Session, product_ids: Sequence[int] | None
           ) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
    query = sa.select(StockLevel.product_id, StockLevel.warehouse_id, StockLevel.on_hand,
                      StockLevel.reserved)
    if product_ids is not None:
        query = query.where(StockLevel.product_id.in_(product_ids))
    return {(p, w): (on_hand, reserved) for p, w, on_hand, reserved in session.execute(query)}


def _shipped(session: Session, since: dt.datetime, product_ids: Sequence[int] | None
             ) -> dict[tuple[int, int], Decimal]:
    """Units each warehouse shipped to customers since ``since``, per product."""
    source = sa.orm.aliased(Location)
    target = sa.orm.aliased(Location)
    query = (sa.select(Move.product_id, source.warehouse_id, sa.func.sum(Move.quantity))
             .join(source, source.id == Move.from_location_id)
             .join(target, target.id == Move.to_location_id)
             .where(target.kind == LocationKind.CUSTOMER, source.warehouse_id.is_not(None),
                    Move.done_at >= since)
             .group_by(Move.product_id, source.warehouse_id))
    if product_ids is not None:
        query = query.where(Move.product_id.in_(product_ids))
    return {(p, w): Decimal(str(total)) for p, w, total in session.execute(query)}


UNKNOWN_CHANNEL = "unknown"
"""The channel of shipments no plugin names (a manual shipment, orders not enabled)."""


def _shipped_by_channel(session: Session, hook: Any, since: dt.datetime,
                        keys: set[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Decimal]]:
    """Units each warehouse shipped to customers since ``since`` per product and sales
    channel, for the (product, warehouse) ``keys`` only."""
    found: dict[tuple[int, int], dict[str, Decimal]] = {key: {} for key in keys}
    if not keys:
        return found
    source = sa.orm.aliased(Location)
    target = sa.orm.aliased(Location)
    products = sorted({product_id for product_id, _warehouse_id in keys})
    rows = []
    for start in range(0, len(products), 10_000):
        rows.extend(session.execute(
            sa.select(Move.product_id, source.warehouse_id, Move.origin,
                      sa.func.sum(Move.quantity))
            .join(source, source.id == Move.from_location_id)
            .join(target, target.id == Move.to_location_id)
            .where(target.kind == LocationKind.CUSTOMER, source.warehouse_id.is_not(None),
                   Move.done_at >= since, Move.product_id.in_(products[start:start + 10_000]))
            .group_by(Move.product_id, source.warehouse_id, Move.origin)))
    origins = sorted({origin for _p, _w, origin, _total in rows if origin})
    channels: dict[str, str] = {}
    if origins:
        for answer in hook.erp_supply_sales_channels(session=session, origins=origins):
            channels.update(answer or {})
    for product_id, warehouse_id, origin, total in rows:
        per_channel = found.get((product_id, warehouse_id))
        if per_channel is None:
            continue
        channel = channels.get(origin, UNKNOWN_CHANNEL) if origin else UNKNOWN_CHANNEL
        per_channel[channel] = per_channel.get(channel, ZERO) + Decimal(str(total))
    return found


def channel_velocity(by_channel: dict[str, Decimal], days: int,
                     counted: Sequence[str] | None) -> dict[str, Any]:
    """The explanation's velocity per channel: units shipped and units per day of each
    channel, and which channels the rule counts."""
    return {"by_channel": {code: {"shipped": str(shipped),
                                  "per_day": str(q(shipped / Decimal(days))),
                                  "counted": not counted or code in counted}
                           for code, shipped in sorted(by_channel.items())},
            "channels_counted": list(counted) if counted else None}


def _incoming(session: Session, product_ids: Sequence[int] | None
              ) -> dict[tuple[int, int], list[tuple[dt.date | None, Decimal]]]:
    """What open purchase orders still bring, per product, warehouse and due date."""
    line, order = PurchaseOrderLine, PurchaseOrder
    remaining = line.quantity - line.received_quantity - line.cancelled_quantity
    due = sa.func.coalesce(line.expected_date, order.expected_date)
    query = (sa.select(line.product_id, order.warehouse_id, due,
                       sa.func.sum(sa.case((remaining > 0, remaining), else_=0)))
             .join(order, order.id == line.order_id)
             .where(order.state.in_(OPEN_STATES))
             .group_by(line.product_id, order.warehouse_id, due))
    if product_ids is not None:
        query = query.where(line.product_id.in_(product_ids))
    found: dict[tuple[int, int], list[tuple[dt.date | None, Decimal]]] = defaultdict(list)
    for product_id, warehouse_id, day, quantity in session.execute(query):
        if quantity:
            found[product_id, warehouse_id].append((day, Decimal(str(quantity))))
    return found


def _offers_of(session: Session, product_ids: Sequence[int], today: dt.date
               ) -> dict[int, list[Offer]]:
    """The offers of these products, read in slices (a statement takes so many ids)."""
    found: dict[int, list[Offer]] = {}
    for start in range(0, len(product_ids), 10_000):
        found.update(offers(session, list(product_ids[start:start + 10_000]), today))
    return found


def _lead_times(session: Session, product_ids: Sequence[int] | None
                ) -> dict[tuple[int, int], LeadTimeStats]:
    lead = ReceiptLine.lead_time_days
    query = (sa.select(Receipt.supplier_id, ReceiptLine.product_id, sa.func.count(),
                       sa.func.sum(lead), sa.func.sum(lead * lead))
             .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
             .where(ReceiptLine.quantity > 0)
             .group_by(Receipt.supplier_id, ReceiptLine.product_id))
    if product_ids is not None:
        query = query.where(ReceiptLine.product_id.in_(product_ids))
    return {(s, p): LeadTimeStats(int(n), int(total), int(squares))
            for s, p, n, total, squares in session.execute(query)}


# -- running -----------------------------------------------------------------------------

@attrs.frozen
class RunSummary:
    rules: int
    suggestions: int
    purchase_orders: list[int]
    without_supplier: int

    def as_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


def replenish(ctx: Context, *, product_ids: Sequence[int] | None = None,
              warehouse_id: int | None = None, create_orders: bool = True,
              today: dt.date | None = None) -> RunSummary:
    """Compute suggestions for the active rules (of some products or one warehouse) and,
    unless ``create_orders`` is false, propose them as draft purchase orders grouped by
    supplier, warehouse and currency. Earlier suggestions not ordered are replaced."""
    ctx.principal.require("supply.replenishment.run")
    session = ctx.session
    now = utcnow()
    today = today or now.date()
    ids = list(product_ids) if product_ids is not None else None
    rules = _rules(session, ids, warehouse_id)
    stock = _stock(session, ids)
    shipped: dict[int, dict[tuple[int, int], Decimal]] = {
        days: _shipped(session, now - dt.timedelta(days=days), ids)
        for days in {rule.velocity_days for rule in rules}}
    # A rule limited to channels measures its velocity from its channels' shipments only.
    by_channel: dict[int, dict[tuple[int, int], dict[str, Decimal]]] = {}
    limited = [rule for rule in rules if rule.channels]
    for days in {rule.velocity_days for rule in limited}:
        by_channel[days] = _shipped_by_channel(
            session, ctx.kernel.hook, now - dt.timedelta(days=days),
            {(r.product_id, r.warehouse_id) for r in limited if r.velocity_days == days})
    for rule in limited:
        key = (rule.product_id, rule.warehouse_id)
        shipped[rule.velocity_days][key] = sum(
            (quantity for code, quantity in by_channel[rule.velocity_days][key].items()
             if code in rule.channels), ZERO)
    incoming = _incoming(session, ids)
    lead_times = _lead_times(session, ids)
    widest: dict[int, Decimal] = {}
    for (_supplier_id, product_id), stats in lead_times.items():
        widest[product_id] = max(widest.get(product_id, ZERO), stats.stddev)
    longest = longest_lead_times(session, ids, today)
    # Only rules whose available stock is not above the highest reorder point any supplier
    # could give need their offers priced: in a large run, most are.
    pending = []
    without_supplier = 0
    for rule in rules:
        key = (rule.product_id, rule.warehouse_id)
        if rule.product_id not in longest:
            without_supplier += 1
            continue
        on_hand, reserved = stock.get(key, (ZERO, ZERO))
        data = RuleInput(rule, on_hand, reserved, shipped[rule.velocity_days].get(key, ZERO),
                         incoming.get(key, ()))
        if rule.method == ReorderMethod.FIXED:
            bound = rule.minimum
        else:
            bound = data.shipped / Decimal(rule.velocity_days) * (
                longest[rule.product_id]
                + Decimal(rule.service_factor) * widest.get(rule.product_id, ZERO))
        if on_hand - reserved <= bound:
            pending.append(data)
    all_offers = _offers_of(session, sorted({data.rule.product_id for data in pending}), today)
    rates = rates_on(session, today)
    plans = []
    for data in pending:
        chosen, _, explanation = plan_rule(data, all_offers.get(data.rule.product_id, ()),
                                           lead_times, rates, today, explain=False)
        if chosen is not None:
            plans.append((data.rule, data, chosen, explanation))
    _explain_channels(ctx, plans, by_channel, now)
    stale = sa.delete(Suggestion).where(Suggestion.state == SuggestionState.PROPOSED)
    if ids is not None:
        stale = stale.where(Suggestion.product_id.in_(ids))
    if warehouse_id is not None:
        stale = stale.where(Suggestion.warehouse_id == warehouse_id)
    session.execute(stale)
    order_ids = _propose_orders(ctx, plans, today) if create_orders else {}
    insert_rows(session, Suggestion, [{
        "created_at": now, "rule_id": rule.id, "product_id": rule.product_id,
        "warehouse_id": rule.warehouse_id, "supplier_id": chosen.offer.supplier_id,
        "quantity": chosen.quantity, "unit_price": chosen.unit_price,
        "currency": chosen.offer.currency, "landed_unit_cost": chosen.landed_unit_cost,
        "velocity": q(data.shipped / Decimal(rule.velocity_days)),
        "lead_time_days": chosen.offer.lead_time_days,
        "safety_stock": q(chosen.safety_stock), "reorder_point": q(chosen.reorder_point),
        "target": q(chosen.target), "on_hand": data.on_hand, "reserved": data.reserved,
        "incoming": chosen.incoming, "position": q(chosen.position),
        "state": SuggestionState.ORDERED if create_orders else SuggestionState.PROPOSED,
        "purchase_order_id": order_ids.get(_order_key(rule, chosen)),
        "explanation": explanation} for rule, data, chosen, explanation in plans])
    return RunSummary(len(rules), len(plans), sorted(set(order_ids.values())), without_supplier)


def _explain_channels(ctx: Context, plans: list[tuple[Any, RuleInput, Candidate, Any]],
                      by_channel: dict[int, dict[tuple[int, int], dict[str, Decimal]]],
                      now: dt.datetime) -> None:
    """Add the velocity per channel to the explanation of each suggestion."""
    wanted: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for rule, _data, _chosen, _explanation in plans:
        key = (rule.product_id, rule.warehouse_id)
        if key not in by_channel.get(rule.velocity_days, {}):
            wanted[rule.velocity_days].add(key)
    for days, keys in wanted.items():
        by_channel.setdefault(days, {}).update(_shipped_by_channel(
            ctx.session, ctx.kernel.hook, now - dt.timedelta(days=days), keys))
    for rule, _data, _chosen, explanation in plans:
        explanation["velocity"].update(channel_velocity(
            by_channel[rule.velocity_days][rule.product_id, rule.warehouse_id],
            rule.velocity_days, rule.channels))


def _order_key(rule: Any, chosen: Candidate) -> tuple[int, int, str]:
    return (chosen.offer.supplier_id, rule.warehouse_id, chosen.offer.currency)


def _propose_orders(ctx: Context, plans: list[tuple[Any, RuleInput, Candidate, Any]],
                    today: dt.date) -> dict[tuple[int, int, str], int]:
    """Draft purchase orders, one per supplier, warehouse and currency; lines in batches."""
    grouped: dict[tuple[int, int, str], list[tuple[Any, Candidate]]] = defaultdict(list)
    for rule, _data, chosen, _explanation in plans:
        grouped[_order_key(rule, chosen)].append((rule, chosen))
    system = ctx.as_principal(Principal.system("supply.replenishment"))
    orders = system.records("supply.purchase_order")
    order_ids = {}
    now = utcnow()
    for (supplier_id, warehouse_id, currency), lines in sorted(grouped.items()):
        slowest = max(chosen.offer.lead_time_days for _rule, chosen in lines)
        order = orders.create({
            "supplier_id": supplier_id, "warehouse_id": warehouse_id, "currency": currency,
            "expected_date": (today + dt.timedelta(days=slowest)).isoformat(),
            "note": "Proposed by replenishment"})
        order_ids[supplier_id, warehouse_id, currency] = order["id"]
        insert_rows(ctx.session, PurchaseOrderLine, [{
            "order_id": order["id"], "product_id": rule.product_id, "quantity": chosen.quantity,
            "unit_price": chosen.unit_price,
            "expected_date": today + dt.timedelta(days=chosen.offer.lead_time_days),
            "original_quantity": None, "original_expected_date": None,
            "received_quantity": ZERO, "rejected_quantity": ZERO, "cancelled_quantity": ZERO,
            "amount": line_amount(chosen.quantity, chosen.unit_price), "version": 1,
            "created_at": now, "updated_at": now} for rule, chosen in lines])
        total = sum((line_amount(chosen.quantity, chosen.unit_price) for _r, chosen in lines),
                    ZERO)
        ctx.session.execute(sa.update(PurchaseOrder).where(PurchaseOrder.id == order["id"])
                            .values(untaxed_amount=total))
    return order_ids


def replenish_products(kernel: Any, keys: Iterable[tuple[int, int]]) -> None:
    """Replenish the products of stock alerts, one run per warehouse, each in its own
    transaction."""
    per_warehouse: dict[int, set[int]] = defaultdict(set)
    for product_id, warehouse_id in keys:
        per_warehouse[warehouse_id].add(product_id)
    for warehouse_id, product_ids in sorted(per_warehouse.items()):
        kernel.run(lambda ctx, w=warehouse_id, p=sorted(product_ids): replenish(
            ctx, product_ids=p, warehouse_id=w), Principal.system("supply.replenishment"))
