"""Factories for the CRM tests: each writes through the CRM's own services as the system
and returns what the API would. The fixtures come from ``erp_sdk.testing`` (the kernel of
``@pytest.mark.erp_plugins("crm")``, tokens, test clients).

Named ``crm_helpers`` rather than ``conftest``: the kernel's tests import helpers
``from conftest``, and a second ``conftest`` module in the same run would shadow theirs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from erp_core.events.outbox import OutboxEvent
from erp_crm.behaviour import Behaviour, CategoryCount
from erp_crm.customers import Customer
from erp_crm.services import RecordedPurchase, record_purchase
from erp_crm.tiers import TierRule
from erp_sdk import Kernel

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
CUSTOMERS = "/api/v1/crm/customers"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create(kernel: Kernel, entity: str, **fields: Any) -> dict[str, Any]:
    with kernel.context() as ctx:
        return ctx.records(f"crm.{entity}").create(fields)


def get(kernel: Kernel, entity: str, record_id: int) -> dict[str, Any]:
    with kernel.context() as ctx:
        return ctx.records(f"crm.{entity}").get(record_id)


def customer(kernel: Kernel, name: str = "Ada Lovelace", **fields: Any) -> dict[str, Any]:
    return create(kernel, "customer", name=name, **fields)


def company(kernel: Kernel, name: str = "Analytical Engines Ltd", **fields: Any
            ) -> dict[str, Any]:
    return customer(kernel, name, kind="company", **fields)


def address(kernel: Kernel, customer_id: int, city: str = "London", **fields: Any
            ) -> dict[str, Any]:
    values = {"line1": "12 St James's Square", "country": "GB", **fields}
    return create(kernel, "address", customer_id=customer_id, city=city, **values)


def tag(kernel: Kernel, customer_id: int, name: str) -> None:
    """Tag a customer, creating the tag on first use."""
    with kernel.context() as ctx:
        found = ctx.records("crm.tag").list([("name", name)])["items"]
        tag_id = found[0]["id"] if found else ctx.records("crm.tag").create({"name": name})["id"]
        ctx.records("crm.customer_tag").create({"customer_id": customer_id, "tag_id": tag_id})


def buy(kernel: Kernel, customer_id: int, reference: str, amount: str = "10.00",
        currency: str = "EUR", occurred_at: dt.datetime | None = None,
        categories: tuple[str, ...] = ()) -> RecordedPurchase:
    with kernel.context() as ctx:
        return record_purchase(ctx, customer_id, reference, Decimal(amount), currency,
                               occurred_at or dt.datetime.now(dt.UTC), categories)


def set_tier_rules(kernel: Kernel, *rules: tuple[str, int, int | None, int, str],
                   currency: str = "EUR") -> None:
    """Replace the tier rules by ``(name, rank, max_recency_days, min_frequency,
    min_monetary)`` tuples."""
    with kernel.context() as ctx:
        ctx.session.execute(sa.delete(TierRule))
        for name, rank, days, purchases, amount in rules:
            ctx.records("crm.tier_rule").create({
                "name": name, "rank": rank, "currency": currency, "max_recency_days": days,
                "min_frequency": purchases, "min_monetary": amount})


def events(kernel: Kernel, name: str) -> list[dict[str, Any]]:
    """Payloads of the outbox events called ``name``, oldest first."""
    with kernel.transaction() as session:
        return list(session.scalars(sa.select(OutboxEvent.payload)
                                    .where(OutboxEvent.name == name).order_by(OutboxEvent.id)))


def behaviour(kernel: Kernel, customer_id: int) -> dict[str, dict[str, Any]]:
    """The customer's behaviour summaries by currency, as the API shows them."""
    with kernel.context() as ctx:
        rows = ctx.records("crm.behaviour").list([("customer_id", str(customer_id))])["items"]
    return {row["currency"]: row for row in rows}


def kept(kernel: Kernel, customer_ids: list[int]) -> dict[str, list[Any]]:
    """What the CRM keeps about these customers' purchases (summaries, category tallies,
    tiers), but row ids and update times: to compare with what a recompute finds."""
    b, c = Behaviour, CategoryCount
    with kernel.transaction() as session:
        return {
            "summaries": session.execute(
                sa.select(b.customer_id, b.currency, b.purchase_count, b.total_spend,
                          b.average_spend, b.first_purchase_at, b.last_purchase_at,
                          b.favourite_categories)
                .where(b.customer_id.in_(customer_ids)).order_by(b.customer_id, b.currency)
            ).all(),
            "tallies": session.execute(
                sa.select(c.customer_id, c.currency, c.category, c.purchase_count)
                .where(c.customer_id.in_(customer_ids))
                .order_by(c.customer_id, c.currency, c.category)).all(),
            "tiers": session.execute(sa.select(Customer.id, Customer.tier)
                                     .where(Customer.id.in_(customer_ids))
                                     .order_by(Customer.id)).all(),
        }
