"""The CRM's migrations on a database that already holds data: crm0002 fills the
per-category tallies from the purchases recorded before it, exactly as the CRM itself
counts them (``refresh_behaviour``)."""

from __future__ import annotations

import sqlalchemy as sa
from crm_helpers import NOW, buy, customer

from erp_core.migrations.runner import schema_transaction
from erp_crm.behaviour import CategoryCount, refresh_behaviour
from erp_crm.services import cancel_purchase, merge_customers
from erp_sdk import Kernel


def back_to_crm0001(kernel: Kernel) -> None:
    """Undo every revision after crm0001 (the latest first) as their own downgrades do and
    leave the crm branch at crm0001, as a seller's database was before upgrading."""
    with schema_transaction(kernel.engine) as connection:
        kernel.migrator.downgrade(kernel.branch("crm"), connection, "crm0001")


def tallies(kernel: Kernel) -> list[tuple[int, str, str, int]]:
    c = CategoryCount
    with kernel.transaction() as session:
        return [tuple(row) for row in session.execute(
            sa.select(c.customer_id, c.currency, c.category, c.purchase_count)
            .order_by(c.customer_id, c.currency, c.category))]


def test_upgrading_to_crm0002_tallies_the_purchases_already_recorded(erp_kernel_factory):
    kernel = erp_kernel_factory("crm")
    ada, bob, copy = (customer(kernel, name)["id"] for name in ("Ada", "Bob", "Bob (copy)"))
    buy(kernel, ada, "SO-1", occurred_at=NOW, categories=("shoes", "hats"))
    buy(kernel, ada, "SO-2", occurred_at=NOW, categories=("shoes",))
    buy(kernel, ada, "SO-3", currency="USD", occurred_at=NOW, categories=("shoes",))
    buy(kernel, ada, "SO-4", occurred_at=NOW, categories=("socks",))
    buy(kernel, bob, "SO-5", occurred_at=NOW, categories=("Shoes", "bags"))
    buy(kernel, copy, "SO-6", occurred_at=NOW, categories=("bags",))
    buy(kernel, ada, "SO-7", occurred_at=NOW)
    with kernel.context() as ctx:
        cancel_purchase(ctx, "SO-4")  # cancelled purchases are not counted
        merge_customers(ctx, bob, copy)
    back_to_crm0001(kernel)
    assert kernel.pending_migrations() == ["crm"]

    kernel.migrate()

    upgraded = tallies(kernel)
    assert upgraded == [(ada, "EUR", "hats", 1), (ada, "EUR", "shoes", 2),
                        (ada, "USD", "shoes", 1), (bob, "EUR", "Shoes", 1),
                        (bob, "EUR", "bags", 2)]
    with kernel.transaction() as session:
        refresh_behaviour(session, [ada, bob, copy])
    assert tallies(kernel) == upgraded
