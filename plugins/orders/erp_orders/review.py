"""Order review (ORD-2): rules, declared as data, that send a confirmation to review.

Each rule is a ``ReviewRule`` with a name and a check that returns a reason (or
``None``). The built-in rules read their settings from the ``orders.review_policy``
entity (one row per rule: enabled, threshold), so a seller tunes them through the API.
Other plugins add rules by implementing the hook ``erp_orders_review_rules`` declared
in ``erp_orders.hookspecs``; every rule that matches adds its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_crm.addresses import Address
from erp_crm.customers import Customer
from erp_orders.order import Order, OrderState
from erp_sdk import Base, Context, Money, RecordMixin


@attrs.frozen
class PolicySettings:
    """A rule's settings as stored in its ``orders.review_policy`` row."""

    rule: str
    enabled: bool
    threshold: Decimal | None


@attrs.frozen
class ReviewRule:
    """``check(ctx, order, policy)`` returns why the order needs review, or ``None``;
    ``policy`` is the rule's settings, ``None`` when the seller stored none."""

    name: str
    description: str
    check: Callable[[Context, Order, PolicySettings | None], str | None] = attrs.field(
        eq=False)


class ReviewPolicy(RecordMixin, Base):
    """Settings of one review rule; a rule without a row uses its defaults (enabled)."""

    __tablename__ = "orders_review_policy"

    rule: Mapped[str] = mapped_column(sa.String(60), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    threshold: Mapped[Money | None]


DEFAULT_LARGE_AMOUNT = Decimal("1000")


def _large_amount(ctx: Context, order: Order, policy: PolicySettings | None) -> str | None:
    threshold = policy.threshold if policy and policy.threshold is not None \
        else DEFAULT_LARGE_AMOUNT
    if order.total > threshold:
        return f"total {order.total:.2f} {order.currency} is above {threshold:.2f}"
    return None


def _first_order(ctx: Context, order: Order, policy: PolicySettings | None) -> str | None:
    earlier = ctx.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.customer_id == order.customer_id, Order.id != order.id,
        Order.state.in_([OrderState.CONFIRMED, OrderState.PARTIALLY_SHIPPED,
                         OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED,
                         OrderState.ON_HOLD])))
    return None if earlier else "first order of this customer"


def _address_mismatch(ctx: Context, order: Order, policy: PolicySettings | None) -> str | None:
    default = ctx.session.scalar(
        sa.select(Address).join(Customer, Customer.default_shipping_address_id == Address.id)
        .where(Customer.id == order.customer_id))
    if default is None or order.ship_line1 is None:
        return None
    same = (default.line1.strip().lower(), default.city.strip().lower(),
            default.country.upper()) == (order.ship_line1.strip().lower(),
                                         (order.ship_city or "").strip().lower(),
                                         (order.ship_country or "").upper())
    return None if same else "shipping address differs from the customer's default"


_FLAGGED = sa.select(Customer.flagged).where(Customer.id == sa.bindparam("customer_id"))


def _flagged_customer(ctx: Context, order: Order, policy: PolicySettings | None) -> str | None:
    flagged = ctx.session.scalar(_FLAGGED, {"customer_id": order.customer_id})
    return "the customer is flagged" if flagged else None


BUILT_IN_RULES: Sequence[ReviewRule] = (
    ReviewRule("large_amount", "Total above a threshold (default 1000)", _large_amount),
    ReviewRule("first_order", "The customer's first order", _first_order),
    ReviewRule("address_mismatch", "Shipping address differs from the customer's default",
               _address_mismatch),
    ReviewRule("flagged_customer", "The customer is flagged in the CRM", _flagged_customer),
)


_POLICIES = sa.select(ReviewPolicy.rule, ReviewPolicy.enabled, ReviewPolicy.threshold)


def policy_settings(ctx: Context) -> dict[str, PolicySettings]:
    """Every stored rule's settings, by rule: read on every confirmation, so kept by the
    process until a policy is written (see ``Context.cached``)."""
    settings = ctx.cached("orders.review_policies", [ReviewPolicy.__tablename__], lambda: {
        row.rule: PolicySettings(row.rule, row.enabled, row.threshold)
        for row in ctx.session.execute(_POLICIES)})
    return dict(settings)


def review_reasons(ctx: Context, order: Order) -> list[str]:
    """Why ``order`` needs review (empty: it does not)."""
    rules = [*BUILT_IN_RULES, *(rule for rules in ctx.kernel.hook.erp_orders_review_rules()
                                for rule in rules or ())]
    policies = policy_settings(ctx)
    reasons = []
    for rule in rules:
        policy = policies.get(rule.name)
        if policy is not None and not policy.enabled:
            continue
        reason = rule.check(ctx, order, policy)
        if reason:
            reasons.append(f"{rule.name}: {reason}")
    return reasons
