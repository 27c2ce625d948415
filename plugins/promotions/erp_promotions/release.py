"""Giving back what an order took when it is cancelled, rejected or returned.

Cancelling (or rejecting) an order gives back every coupon use, customer use and budget
it took. A refunded return gives back, per promotion, the budget in proportion to the
returned units of each line it discounted: cumulatively, ``share(units returned so far)``
less what was given back before, so several partial returns never give back more than
the discount, and exactly all of it once everything is back; when every line has come
back, the uses are given back too. Each redemption is released once: a release marks it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from erp_orders.order import OrderLine
from erp_promotions.redemption import Application, Redemption, give_back, give_back_amount
from erp_sdk import Context, TransitionEvent, on_transition, utcnow

ZERO = Decimal(0)
CENT = Decimal("0.01")


def release_order(ctx: Context, order_id: int, *, forget: bool = False) -> int:
    """Give back what ``order_id`` still holds; ``forget`` deletes its redemptions and
    applications (a draft priced again) instead of marking them released. Returns how
    many redemptions were released."""
    rows = list(ctx.session.scalars(sa.select(Redemption).where(
        Redemption.order_id == order_id, Redemption.released_at.is_(None))
        .order_by(Redemption.id)))
    if rows:
        campaigns: dict[int, Decimal] = {}
        for row in rows:
            if row.campaign_id is not None:
                campaigns[row.campaign_id] = (campaigns.get(row.campaign_id, ZERO)
                                              + row.amount - row.returned_amount)
        taken = [("campaign", cid, campaigns[cid]) for cid in sorted(campaigns)]
        taken += [("coupon", cid, ZERO) for cid in sorted({r.coupon_id for r in rows
                                                            if r.coupon_id})]
        taken += [("customer", pid, ZERO) for pid in sorted({r.promotion_id for r in rows
                                                              if r.customer_use})]
        give_back(ctx.session, rows[0].customer_id, taken)
    if forget:
        ctx.session.execute(sa.delete(Application).where(Application.order_id == order_id))
        ctx.session.execute(sa.delete(Redemption).where(Redemption.order_id == order_id))
    elif rows:
        now = utcnow()
        for row in rows:
            row.released_at = now
        ctx.session.flush()
    return len(rows)


@on_transition("orders.order", "cancel")
def cancelled_order_gives_back(ctx: Context, event: TransitionEvent) -> None:
    release_order(ctx, event.record_id)


@on_transition("orders.order", "reject")
def rejected_order_gives_back(ctx: Context, event: TransitionEvent) -> None:
    release_order(ctx, event.record_id)


def _share(amount: Decimal, returned: Decimal, quantity: Decimal) -> Decimal:
    if returned >= quantity:
        return amount
    return (amount * returned / quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def release_returned(ctx: Context, order_id: int) -> None:
    """Give back the budget of the units returned so far, and the uses once all are."""
    lines = {line.id: line for line in ctx.session.scalars(
        sa.select(OrderLine).where(OrderLine.order_id == order_id))}
    redemptions = list(ctx.session.scalars(sa.select(Redemption).where(
        Redemption.order_id == order_id, Redemption.released_at.is_(None))
        .order_by(Redemption.id)))
    if not redemptions:
        return
    applications = ctx.session.execute(sa.select(
        Application.promotion_id, Application.order_line_id, Application.amount).where(
        Application.order_id == order_id, Application.order_line_id.is_not(None))).all()
    returned: dict[int, Decimal] = {}
    for promotion_id, line_id, amount in applications:
        line = lines.get(line_id)
        if line is not None:
            returned[promotion_id] = returned.get(promotion_id, ZERO) + _share(
                amount, line.quantity_returned, line.quantity)
    for row in redemptions:
        more = returned.get(row.promotion_id, ZERO) - row.returned_amount
        if more > 0:
            if row.campaign_id is not None:
                give_back_amount(ctx.session, row.campaign_id, more)
            row.returned_amount += more
    ctx.session.flush()
    if all(line.quantity_returned >= line.quantity for line in lines.values() if not line.gift):
        release_order(ctx, order_id)


@on_transition("orders.return_request", "refund")
def refunded_return_gives_back(ctx: Context, event: TransitionEvent) -> None:
    order_id = event.record.get("order_id")
    if order_id is None:
        return
    release_returned(ctx, int(order_id))

