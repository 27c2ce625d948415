"""Demo data: a few hundred customers with their history, the same on every run."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_crm.addresses import Address
from erp_crm.behaviour import Behaviour, spend_figures
from erp_crm.customers import Customer
from erp_crm.interactions import Interaction
from erp_crm.purchases import Purchase
from erp_crm.segments import Segment

pytestmark = pytest.mark.erp_plugins("crm")


def load(kernel) -> float:
    started = time.perf_counter()
    with kernel.transaction() as session:
        kernel.contribute("erp_load_demo_data", session=session, kernel=kernel)
    return time.perf_counter() - started


def counts(kernel) -> dict[str, int]:
    with kernel.transaction() as session:
        return {model.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Customer, Address, Interaction, Purchase, Behaviour, Segment)}


def test_the_demo_has_a_few_hundred_customers_with_history(erp_kernel):
    seconds = load(erp_kernel)
    found = counts(erp_kernel)
    assert found["crm_customer"] == 300
    assert found["crm_address"] >= 300
    assert min(found["crm_interaction"], found["crm_purchase"]) > 500
    assert found["crm_segment"] == 4
    print(f"crm demo data loaded in {seconds:.2f}s: {found}")


def test_every_demo_customer_has_default_addresses_and_a_computed_summary(erp_kernel):
    load(erp_kernel)
    with erp_kernel.transaction() as session:
        without_default = session.scalar(sa.select(sa.func.count()).select_from(Customer).where(
            Customer.default_shipping_address_id.is_(None)))
        ids = session.scalars(sa.select(Customer.id)).all()
        expected = spend_figures(session, ids)
        stored = {(b.customer_id, b.currency): (b.purchase_count, b.total_spend)
                  for b in session.scalars(sa.select(Behaviour))}
        tiers = set(session.scalars(sa.select(Customer.tier)))
    assert without_default == 0
    assert stored == {(c, cur): (f.purchase_count, f.total_spend)
                      for c, by_currency in expected.items() for cur, f in by_currency.items()}
    assert {"gold", "silver", "bronze", None} <= tiers


def test_the_demo_is_the_same_on_every_run(erp_kernel, tmp_path):
    def customers(kernel):
        load(kernel)
        with kernel.transaction() as session:
            return session.execute(sa.select(Customer.name, Customer.email, Customer.flagged)
                                   .order_by(Customer.id)).all()

    with Kernel(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'again.db'}")) as again:
        again.enable(["crm"])
        assert customers(again.boot()) == customers(erp_kernel)
