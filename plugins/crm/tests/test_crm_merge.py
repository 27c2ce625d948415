"""Merging a duplicate customer into the one that stays: everything moves, the duplicate
remains as a record of the merge, and it is all or nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from crm_helpers import CUSTOMERS, address, behaviour, buy, company, customer, events, get, tag

from erp_core.audit import AuditEntry
from erp_crm import merge as merge_module
from erp_crm.contacts import Contact
from erp_crm.interactions import Interaction
from erp_crm.purchases import Purchase
from erp_crm.services import log_interaction, merge_customers
from erp_crm.tags import CustomerTag

pytestmark = pytest.mark.erp_plugins("crm")


def merge(client, survivor_id: int, duplicate_id: int):
    return client.post(f"{CUSTOMERS}/{survivor_id}/merge", json={"duplicate_id": duplicate_id})


def owners(kernel, model) -> list[int]:
    with kernel.transaction() as session:
        return sorted(session.scalars(sa.select(model.customer_id)))


@pytest.fixture
def pair(erp_kernel):
    """A company with an address, a contact, a tag, an interaction and a purchase, and its
    duplicate with the same kinds of things."""
    kept = company(erp_kernel, "Babbage & Co", phone=None)
    copy = company(erp_kernel, "Babbage and Co", email="orders@babbage.example",
                   phone="+44 20 1234", notes="Ships to the back door", flagged=True)
    for record in (kept, copy):
        address(erp_kernel, record["id"])
        with erp_kernel.context() as ctx:
            ctx.records("crm.contact").create({"customer_id": record["id"], "name": "Clerk"})
            log_interaction(ctx, record["id"], {"kind": "note", "summary": "hello"})
        buy(erp_kernel, record["id"], f"SO-{record['id']}", "100.00")
    tag(erp_kernel, kept["id"], "wholesale")
    tag(erp_kernel, copy["id"], "wholesale")
    tag(erp_kernel, copy["id"], "vip")
    return kept["id"], copy["id"]


def test_merging_moves_everything_to_the_survivor(erp_client, erp_kernel, pair):
    kept, copy = pair
    response = merge(erp_client, kept, copy)
    assert response.status_code == 200, response.text
    for model in (Contact, Interaction, Purchase):
        assert owners(erp_kernel, model) == [kept, kept]
    with erp_kernel.transaction() as session:
        tags = session.execute(sa.text(
            "SELECT t.name FROM crm_customer_tag ct JOIN crm_tag t ON t.id = ct.tag_id"
            " WHERE ct.customer_id = :c ORDER BY t.name"), {"c": kept}).scalars().all()
    assert tags == ["vip", "wholesale"]
    assert owners(erp_kernel, CustomerTag) == [kept, kept]
    addresses = erp_client.get("/api/v1/crm/addresses", params={"customer_id": kept}).json()
    assert len(addresses["items"]) == 2


def test_the_survivor_takes_what_it_lacked_and_keeps_its_own(erp_client, erp_kernel, pair):
    kept, copy = pair
    survivor = merge(erp_client, kept, copy).json()
    assert (survivor["name"], survivor["email"], survivor["phone"], survivor["flagged"]) == (
        "Babbage & Co", "orders@babbage.example", "+44 20 1234", True)
    assert survivor["notes"] == f"From customer {copy} (merged): Ships to the back door"


def test_the_duplicate_stays_as_a_record_of_the_merge(erp_client, erp_kernel, pair):
    kept, copy = pair
    merge(erp_client, kept, copy)
    duplicate = get(erp_kernel, "customer", copy)
    assert (duplicate["merged_into_id"], duplicate["active"], duplicate["email"],
            duplicate["tier"]) == (kept, False, None, None)
    assert behaviour(erp_kernel, copy) == {}


def test_the_survivors_summary_and_tier_include_the_duplicates_purchases(erp_client,
                                                                         erp_kernel, pair):
    kept, copy = pair
    merge(erp_client, kept, copy)
    summary = behaviour(erp_kernel, kept)["EUR"]
    assert (summary["purchase_count"], summary["total_spend"]) == (2, "200.0000")
    changes = [e for e in events(erp_kernel, "crm.customer.tier_changed")
               if e["reason"] == "merge"]
    assert [(c["customer_id"], c["new_tier"]) for c in changes] == [(copy, None)]


def test_a_merge_is_announced_and_audited(erp_client, erp_kernel, pair):
    kept, copy = pair
    merge(erp_client, kept, copy)
    [event] = events(erp_kernel, "crm.customer.merged")
    assert event == {"survivor_id": kept, "duplicate_id": copy, "moved": {
        "contacts": 1, "addresses": 1, "interactions": 1, "tags": 1, "purchases": 1}}
    with erp_kernel.transaction() as session:
        audited = session.execute(sa.select(AuditEntry.record_id, AuditEntry.changes)
                                  .where(AuditEntry.action == "merged")
                                  .order_by(AuditEntry.record_id)).all()
    assert [record_id for record_id, _ in audited] == [kept, copy]
    assert audited[1][1]["merged_into_id"] == {"old": None, "new": kept}


def test_a_merged_customer_no_longer_changes(erp_client, erp_kernel, pair):
    kept, copy = pair
    merge(erp_client, kept, copy)
    response = erp_client.patch(f"{CUSTOMERS}/{copy}", json={"name": "Revived"})
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"customer {copy} was merged into customer {kept}; work on customer {kept} instead")
    assert erp_client.post("/api/v1/crm/addresses", json={
        "customer_id": copy, "line1": "x", "city": "y", "country": "GB"}).status_code == 409


def test_a_customer_is_merged_only_once(erp_client, erp_kernel, pair):
    kept, copy = pair
    other = customer(erp_kernel, "Someone")["id"]
    merge(erp_client, kept, copy)
    assert merge(erp_client, other, copy).status_code == 409
    assert merge(erp_client, copy, other).status_code == 409


def test_a_customer_is_not_merged_into_itself(erp_client, pair):
    kept, _copy = pair
    response = merge(erp_client, kept, kept)
    assert response.status_code == 422


def test_merging_an_unknown_customer_is_404(erp_client, pair):
    kept, _copy = pair
    assert merge(erp_client, kept, 999).status_code == 404


def test_the_body_names_the_duplicate(erp_client, pair):
    kept, _copy = pair
    response = erp_client.post(f"{CUSTOMERS}/{kept}/merge", json={"duplicate_id": "2"})
    assert response.status_code == 422


def test_a_merge_that_fails_halfway_changes_nothing(erp_kernel, pair, monkeypatch):
    kept, copy = pair
    before = {customer_id: get(erp_kernel, "customer", customer_id) for customer_id in pair}

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merge_module, "refresh_customers", broken)
    with pytest.raises(RuntimeError), erp_kernel.context() as ctx:
        merge_customers(ctx, kept, copy)
    assert {customer_id: get(erp_kernel, "customer", customer_id) for customer_id in pair} \
        == before
    for model in (Contact, Interaction, Purchase):
        assert owners(erp_kernel, model) == sorted(pair)
    assert events(erp_kernel, "crm.customer.merged") == []
    assert behaviour(erp_kernel, copy)["EUR"]["purchase_count"] == 1
