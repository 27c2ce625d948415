"""What the roles allow: ``crm.agent`` serves customers; ``crm.manager`` does everything in
the CRM, including merges, tier rules and segments."""

from __future__ import annotations

import pytest
from crm_helpers import CUSTOMERS, customer

pytestmark = pytest.mark.erp_plugins("crm")


@pytest.fixture
def agent(erp_client_for):
    return erp_client_for("crm.agent")


@pytest.fixture
def manager(erp_client_for):
    return erp_client_for("crm.manager")


def test_an_agent_creates_and_updates_customers(agent):
    created = agent.post(CUSTOMERS, json={"name": "Ada"})
    assert created.status_code == 201
    updated = agent.patch(f"{CUSTOMERS}/{created.json()['id']}", json={"phone": "+44 1"})
    assert updated.status_code == 200


def test_an_agent_logs_interactions_and_reads_the_timeline(agent, erp_kernel):
    ada = customer(erp_kernel)
    assert agent.post(f"{CUSTOMERS}/{ada['id']}/interactions",
                      json={"kind": "call", "summary": "hi"}).status_code == 201
    assert agent.get(f"{CUSTOMERS}/{ada['id']}/timeline").status_code == 200


def test_an_agent_cannot_merge(agent, erp_kernel):
    ada, copy = customer(erp_kernel), customer(erp_kernel, "Ada (copy)")
    response = agent.post(f"{CUSTOMERS}/{ada['id']}/merge", json={"duplicate_id": copy["id"]})
    assert response.status_code == 403
    assert "crm.customer.merge" in response.json()["detail"]


def test_an_agent_reads_but_does_not_change_tier_rules_or_segments(agent):
    assert agent.get("/api/v1/crm/tier-rules").status_code == 200
    assert agent.post("/api/v1/crm/tier-rules", json={
        "name": "x", "rank": 99, "currency": "EUR"}).status_code == 403
    assert agent.get("/api/v1/crm/segments").status_code == 200
    assert agent.post("/api/v1/crm/segments", json={"name": "x"}).status_code == 403


def test_a_manager_merges_and_configures(manager, erp_kernel):
    ada, copy = customer(erp_kernel), customer(erp_kernel, "Ada (copy)")
    assert manager.post(f"{CUSTOMERS}/{ada['id']}/merge",
                        json={"duplicate_id": copy["id"]}).status_code == 200
    assert manager.post("/api/v1/crm/tier-rules", json={
        "name": "platinum", "rank": 99, "currency": "EUR"}).status_code == 201
    segment = manager.post("/api/v1/crm/segments", json={"name": "platinum",
                                                         "tiers": ["platinum"]})
    assert segment.status_code == 201
    assert manager.get(f"/api/v1/crm/segments/{segment.json()['id']}/members").status_code \
        == 200


def test_a_user_without_crm_roles_sees_no_customer(erp_client_for, erp_kernel):
    outsider = erp_client_for()
    ada = customer(erp_kernel)
    assert outsider.get(CUSTOMERS).status_code == 403
    assert outsider.get(f"{CUSTOMERS}/search").status_code == 403
    assert outsider.get(f"{CUSTOMERS}/{ada['id']}/timeline").status_code == 403


def test_the_crm_routes_need_a_token(erp_app, erp_kernel):
    from litestar.testing import TestClient

    ada = customer(erp_kernel)
    with TestClient(app=erp_app) as anonymous:
        assert anonymous.get(f"{CUSTOMERS}/{ada['id']}/timeline").status_code == 401
        assert anonymous.post(f"{CUSTOMERS}/{ada['id']}/merge",
                              json={"duplicate_id": 1}).status_code == 401
