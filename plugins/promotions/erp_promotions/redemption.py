"""What an order took from promotions, and giving it back.

An order that uses a promotion takes, in the transaction that writes the order: a use of
each coupon code (``used + 1`` only while under the code's limit), a use of the
promotion by the customer (under its per-customer limit), and its campaign's budget
(the discount added to ``spent`` and one use, only while both stay within the budget).
Each is one conditional ``UPDATE`` (or ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``):
the row lock it takes serialises concurrent orders and the condition is checked on the
committed value, so a limit cannot be overrun, and nothing is read first. Rows are taken
in one stable order (campaigns, then coupons, then customer uses, each by id), so two
orders never wait for each other in a cycle.

A ``Redemption`` row per order and promotion remembers what was taken; ``Application``
rows say which line each promotion discounted, and by how much. Cancelling the order
gives everything back; a return gives back the budget in proportion to the returned
lines' discounts, and the uses once every line has come back.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_promotions.coupon import Coupon, CustomerUse
from erp_promotions.promotion import Campaign
from erp_sdk import Base, Context, Money, UtcDateTime

ZERO = Decimal(0)


class Level(enum.StrEnum):
    ITEM = "item"
    ORDER = "order"
    SHIPPING = "shipping"
    GIFT = "gift"


class Redemption(Base):
    __tablename__ = "promotions_redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id"), index=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions_promotion.id"),
                                              index=True)
    coupon_id: Mapped[int | None] = mapped_column(sa.ForeignKey("promotions_coupon.id"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("promotions_campaign.id"),
                                                    index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_customer.id"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[Money]
    returned_amount: Mapped[Money] = mapped_column(default=Decimal(0))
    customer_use: Mapped[bool] = mapped_column(default=False)
    redeemed_at: Mapped[UtcDateTime]
    released_at: Mapped[UtcDateTime | None]


class Application(Base):
    __tablename__ = "promotions_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders_order_line.id", ondelete="CASCADE"), index=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions_promotion.id"),
                                              index=True)
    coupon_id: Mapped[int | None] = mapped_column(sa.ForeignKey("promotions_coupon.id"))
    level: Mapped[str] = mapped_column(sa.String(10))
    amount: Mapped[Money]


@attrs.frozen
class Claim:
    """What one order takes: per campaign the discount spent, the coupons, and the
    promotions used under a per-customer limit ``{promotion id: limit}``."""

    customer_id: int
    campaigns: Mapping[int, Decimal]
    coupons: tuple[int, ...]
    customer_limits: Mapping[int, int]


@attrs.frozen
class Refused:
    """Which row could not be taken: ``kind`` is campaign, coupon or customer."""

    kind: str
    id: int


def _take_campaign(session: sa.orm.Session, campaign_id: int, amount: Decimal) -> bool:
    table = Campaign.__table__
    return session.execute(
        table.update().where(
            table.c.id == campaign_id,
            sa.or_(table.c.budget_amount.is_(None),
                   table.c.spent + amount <= table.c.budget_amount),
            sa.or_(table.c.budget_uses.is_(None), table.c.uses < table.c.budget_uses))
        .values(spent=table.c.spent + amount, uses=table.c.uses + 1)).rowcount == 1


def _take_coupon(session: sa.orm.Session, coupon_id: int) -> bool:
    table = Coupon.__table__
    return session.execute(
        table.update().where(table.c.id == coupon_id, table.c.active.is_(True),
                             sa.or_(table.c.usage_limit.is_(None),
                                    table.c.used < table.c.usage_limit))
        .values(used=table.c.used + 1)).rowcount == 1


def _take_customer_use(session: sa.orm.Session, promotion_id: int, customer_id: int,
                       limit: int) -> bool:
    table = CustomerUse.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(promotion_id=promotion_id, customer_id=customer_id,
                                     uses=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.promotion_id, table.c.customer_id],
        set_={"uses": table.c.uses + 1}, where=table.c.uses < limit)
    # RETURNING, not rowcount: what an upsert reports as its row count differs by driver.
    return session.execute(statement.returning(table.c.uses)).first() is not None


def take(ctx: Context, claim: Claim) -> Refused | None:
    """Take everything ``claim`` needs, in the stable order, or nothing: on the first row
    that cannot be taken, what was taken so far is given back and that row returned."""
    session = ctx.session
    session.flush()
    done: list[tuple[str, int, Decimal]] = []
    steps: list[tuple[str, int, Decimal]] = [
        *(("campaign", cid, claim.campaigns[cid]) for cid in sorted(claim.campaigns)),
        *(("coupon", cid, ZERO) for cid in sorted(claim.coupons)),
        *(("customer", pid, Decimal(claim.customer_limits[pid]))
          for pid in sorted(claim.customer_limits))]
    for kind, key, value in steps:
        if kind == "campaign":
            taken = _take_campaign(session, key, value)
        elif kind == "coupon":
            taken = _take_coupon(session, key)
        else:
            taken = _take_customer_use(session, key, claim.customer_id, int(value))
        if not taken:
            give_back(session, claim.customer_id, done)
            return Refused(kind, key)
        done.append((kind, key, value))
    return None


def give_back(session: sa.orm.Session, customer_id: int,
              taken: Iterable[tuple[str, int, Decimal]]) -> None:
    """Undo takes: ``(campaign, id, amount)``, ``(coupon, id, _)``, ``(customer,
    promotion id, _)``; a campaign amount of ``None``-like zero gives back the use only."""
    campaigns, coupons, customers = Campaign.__table__, Coupon.__table__, CustomerUse.__table__
    for kind, key, value in taken:
        if kind == "campaign":
            session.execute(campaigns.update().where(campaigns.c.id == key).values(
                spent=campaigns.c.spent - value, uses=campaigns.c.uses - 1))
        elif kind == "coupon":
            session.execute(coupons.update().where(coupons.c.id == key, coupons.c.used > 0)
                            .values(used=coupons.c.used - 1))
        else:
            session.execute(customers.update().where(
                customers.c.promotion_id == key, customers.c.customer_id == customer_id,
                customers.c.uses > 0).values(uses=customers.c.uses - 1))


def give_back_amount(session: sa.orm.Session, campaign_id: int, amount: Decimal) -> None:
    """Give a part of a campaign's spend back (a partial return), keeping its use."""
    campaigns = Campaign.__table__
    session.execute(campaigns.update().where(campaigns.c.id == campaign_id)
                    .values(spent=campaigns.c.spent - amount))
