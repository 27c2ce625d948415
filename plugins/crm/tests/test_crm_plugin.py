"""The CRM is an ordinary plugin: found through its entry point, migrated on its own
Alembic branch, and its migrations create exactly the tables its models declare."""

from __future__ import annotations

import sqlalchemy as sa

from erp_crm.tiers import TierRule
from erp_sdk.testing import assert_migrations_match_models


def test_the_crm_plugin_is_discovered_through_its_entry_point(erp_kernel_factory):
    kernel = erp_kernel_factory()
    plugin = kernel.plugins.plugins["crm"]
    assert (plugin.distribution, plugin.depends) == ("erp-crm", ())


def test_the_migrations_create_exactly_the_models(erp_kernel_factory):
    assert_migrations_match_models(erp_kernel_factory(), "crm")


def test_enabling_registers_the_entities_and_roles(erp_kernel_factory):
    kernel = erp_kernel_factory("crm")
    assert {e.name for e in kernel.entities if e.plugin == "crm"} == {
        "crm.customer", "crm.contact", "crm.address", "crm.tag", "crm.customer_tag",
        "crm.interaction", "crm.purchase", "crm.behaviour", "crm.tier_rule",
        "crm.tier_change", "crm.segment"}
    assert {"crm.agent", "crm.manager"} <= set(kernel.permissions.roles)
    assert {"crm.customer.merge", "crm.tier.recompute"} <= set(kernel.permissions.permissions)


def test_enabling_creates_default_tiers(erp_kernel_factory):
    kernel = erp_kernel_factory("crm")
    with kernel.transaction() as session:
        rules = session.execute(sa.select(TierRule.name, TierRule.rank, TierRule.currency)
                                .order_by(TierRule.rank.desc())).all()
    assert rules == [("gold", 30, "EUR"), ("silver", 20, "EUR"), ("bronze", 10, "EUR")]


def test_the_crm_routes_are_in_the_openapi_document(erp_kernel_factory):
    from litestar.testing import TestClient

    from erp_core.api import create_app

    with TestClient(app=create_app(erp_kernel_factory("crm"))) as client:
        paths = client.get("/schema/openapi.json").json()["paths"]
    assert {"/api/v1/crm/customers/{customer_id}/merge", "/api/v1/crm/customers/search",
            "/api/v1/crm/customers/{customer_id}/timeline",
            "/api/v1/crm/segments/{segment_id}/members", "/api/v1/crm/customers",
            "/api/v1/crm/tier-rules"} <= set(paths)
