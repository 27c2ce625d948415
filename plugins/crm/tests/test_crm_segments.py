"""Segments: saved filters over customers, their members (one query per page) and what
they buy."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from crm_helpers import buy, customer, set_tier_rules, tag

from erp_crm.customers import Customer
from erp_crm.services import merge_customers, segment_members
from erp_sdk import utcnow

pytestmark = pytest.mark.erp_plugins("crm")

SEGMENTS = "/api/v1/crm/segments"


def segment(client, **criteria) -> int:
    response = client.post(SEGMENTS, json={"name": "test segment", **criteria})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def members(client, segment_id: int, **params) -> list[str]:
    response = client.get(f"{SEGMENTS}/{segment_id}/members", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
def shoppers(erp_kernel):
    """Ada: 3 x 100 EUR (recent). Bob: 1 x 40 EUR, a year ago. Cleo: 50 USD. Dan: nothing,
    flagged. Tiers: "loyal" for 3+ purchases within 90 days, "known" for any within 2 years."""
    set_tier_rules(erp_kernel, ("loyal", 20, 90, 3, "0"), ("known", 10, 730, 1, "0"))
    now = utcnow()
    people = {name: customer(erp_kernel, name)["id"] for name in ("Ada", "Bob", "Cleo")}
    people["Dan"] = customer(erp_kernel, "Dan", flagged=True)["id"]
    for number in range(3):
        buy(erp_kernel, people["Ada"], f"A-{number}", "100.00",
            occurred_at=now - dt.timedelta(days=number + 1), categories=("shoes",))
    buy(erp_kernel, people["Bob"], "B-1", "40.00", occurred_at=now - dt.timedelta(days=365),
        categories=("hats", "shoes"))
    buy(erp_kernel, people["Cleo"], "C-1", "50.00", "USD", categories=("bags",))
    tag(erp_kernel, people["Ada"], "vip")
    tag(erp_kernel, people["Dan"], "vip")
    return people


def test_members_by_tier(erp_client, shoppers):
    assert members(erp_client, segment(erp_client, tiers=["loyal"])) == ["Ada"]
    assert members(erp_client, segment(erp_client, name="b", tiers=["loyal", "known"])) == [
        "Ada", "Bob"]


def test_members_by_tag_and_flag(erp_client, shoppers):
    assert members(erp_client, segment(erp_client, tags=["vip"])) == ["Ada", "Dan"]
    assert members(erp_client, segment(erp_client, name="b", tags=["vip"], flagged=True)) == [
        "Dan"]


def test_members_by_spend_in_one_currency(erp_client, shoppers):
    assert members(erp_client, segment(erp_client, currency="EUR", min_spend="300.00")) == [
        "Ada"]
    assert members(erp_client, segment(erp_client, name="b", currency="EUR",
                                       min_spend="40.00", max_spend="299.99")) == ["Bob"]
    assert members(erp_client, segment(erp_client, name="c", currency="USD",
                                       min_spend="0.01")) == ["Cleo"]


def test_a_maximum_spend_includes_customers_who_never_bought(erp_client, shoppers):
    assert members(erp_client, segment(erp_client, currency="EUR", max_spend="50")) == [
        "Bob", "Cleo", "Dan"]


def test_members_by_last_purchase(erp_client, shoppers):
    half_a_year_ago = (utcnow() - dt.timedelta(days=180)).isoformat()
    assert members(erp_client, segment(erp_client, currency="EUR",
                                       last_purchase_before=half_a_year_ago)) == ["Bob"]
    assert members(erp_client, segment(erp_client, name="b", currency="EUR",
                                       last_purchase_after=half_a_year_ago)) == ["Ada"]


def test_merged_and_inactive_customers_are_never_members(erp_client, erp_kernel, shoppers):
    with erp_kernel.context() as ctx:
        merge_customers(ctx, shoppers["Ada"], shoppers["Dan"])
    erp_client.patch(f"/api/v1/crm/customers/{shoppers['Bob']}", json={"active": False})
    assert members(erp_client, segment(erp_client)) == ["Ada", "Cleo"]


def test_spend_criteria_need_a_currency(erp_client):
    response = erp_client.post(SEGMENTS, json={"name": "big", "min_spend": "100"})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "currency": "is required with spend or last-purchase criteria"}


def test_a_segment_names_existing_tags(erp_client):
    response = erp_client.post(SEGMENTS, json={"name": "x", "tags": ["nope"]})
    assert response.status_code == 422
    assert response.json()["errors"] == {"tags": "no tag named nope"}


def test_an_update_is_checked_with_the_stored_criteria(erp_client, shoppers):
    segment_id = segment(erp_client, currency="EUR", min_spend="100")
    response = erp_client.patch(f"{SEGMENTS}/{segment_id}", json={"max_spend": "50"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"max_spend": "is below min_spend"}


def test_members_are_paged_by_id(erp_client, shoppers):
    segment_id = segment(erp_client)
    first = erp_client.get(f"{SEGMENTS}/{segment_id}/members", params={"limit": 3}).json()
    rest = erp_client.get(f"{SEGMENTS}/{segment_id}/members",
                          params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [c["name"] for c in first["items"] + rest["items"]] == ["Ada", "Bob", "Cleo", "Dan"]
    assert rest["next_cursor"] is None


def test_the_members_of_an_unknown_segment_are_404(erp_client):
    assert erp_client.get(f"{SEGMENTS}/999/members").status_code == 404


def test_what_a_segment_buys(erp_client, shoppers):
    segment_id = segment(erp_client, tiers=["loyal", "known"])
    report = erp_client.get(f"{SEGMENTS}/{segment_id}/behaviour").json()
    assert report == {
        "segment_id": segment_id, "members": 2,
        "spend": [{"currency": "EUR", "buyers": 2, "purchases": 4, "total_spend": "340.0000",
                   "average_purchase": "85.0000"}],
        "top_categories": [{"category": "shoes", "purchases": 4},
                           {"category": "hats", "purchases": 1}]}


def statements_for_a_page(kernel, segment_id: int) -> tuple[int, int]:
    """(members returned, SQL statements run) for one page of up to 500 members."""
    executed = []

    def count(*_args):
        executed.append(1)

    sa.event.listen(kernel.engine, "before_cursor_execute", count)
    try:
        with kernel.context() as ctx:
            page = segment_members(ctx, segment_id, limit=500)
    finally:
        sa.event.remove(kernel.engine, "before_cursor_execute", count)
    return len(page["items"]), len(executed)


def test_a_page_of_members_costs_the_same_queries_for_10_or_100_members(erp_client, erp_kernel):
    now = utcnow()
    with erp_kernel.transaction() as session:
        ids = session.execute(sa.insert(Customer).returning(Customer.id), [
            {"name": f"Customer {n}", "tier": "gold", "created_at": now, "updated_at": now}
            for n in range(100)]).scalars().all()
    for customer_id in ids[:10]:
        tag(erp_kernel, customer_id, "vip")
    everyone = segment(erp_client, name="gold", tiers=["gold"], currency="EUR", max_spend="10")
    tagged = segment(erp_client, name="gold vip", tiers=["gold"], tags=["vip"],
                     currency="EUR", max_spend="10")
    hundred, for_hundred = statements_for_a_page(erp_kernel, everyone)
    ten, for_ten = statements_for_a_page(erp_kernel, tagged)
    assert (hundred, ten) == (100, 10)
    assert for_hundred == for_ten
