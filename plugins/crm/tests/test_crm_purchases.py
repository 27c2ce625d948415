"""Purchases recorded by the selling plugin, and the behaviour summaries they feed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from crm_helpers import NOW, behaviour, buy, customer, events, get, set_tier_rules

from erp_crm.services import cancel_purchase, record_purchase
from erp_sdk import Kernel, NotFoundError, ValidationError

pytestmark = pytest.mark.erp_plugins("crm")


def test_a_purchase_starts_a_behaviour_summary(erp_kernel):
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1", "19.99", occurred_at=NOW, categories=("shoes",))
    summary = behaviour(erp_kernel, ada["id"])["EUR"]
    assert {k: summary[k] for k in ("purchase_count", "total_spend", "average_spend",
                                    "first_purchase_at", "last_purchase_at",
                                    "favourite_categories")} == {
        "purchase_count": 1, "total_spend": "19.9900", "average_spend": "19.9900",
        "first_purchase_at": NOW.isoformat(), "last_purchase_at": NOW.isoformat(),
        "favourite_categories": ["shoes"]}


def test_the_summary_adds_purchases_up_to_the_cent(erp_kernel):
    ada = customer(erp_kernel)
    for number, amount in enumerate(("0.10", "0.20", "0.01")):
        buy(erp_kernel, ada["id"], f"SO-{number}", amount,
            occurred_at=NOW - dt.timedelta(days=number))
    summary = behaviour(erp_kernel, ada["id"])["EUR"]
    assert (summary["purchase_count"], summary["total_spend"], summary["average_spend"]) == (
        3, "0.3100", "0.1033")
    assert (summary["first_purchase_at"], summary["last_purchase_at"]) == (
        (NOW - dt.timedelta(days=2)).isoformat(), NOW.isoformat())


def test_recording_the_same_reference_again_replaces_it_and_never_counts_twice(erp_kernel):
    ada = customer(erp_kernel)
    first = buy(erp_kernel, ada["id"], "SO-1", "10.00", categories=("shoes",))
    again = buy(erp_kernel, ada["id"], "SO-1", "12.50", categories=("hats",))
    assert again.purchase_id == first.purchase_id
    summary = behaviour(erp_kernel, ada["id"])["EUR"]
    assert (summary["purchase_count"], summary["total_spend"],
            summary["favourite_categories"]) == (1, "12.5000", ["hats"])


def test_a_reference_recorded_for_another_customer_moves_to_them(erp_kernel):
    ada, bob = customer(erp_kernel), customer(erp_kernel, "Bob")
    buy(erp_kernel, ada["id"], "SO-1", "10.00")
    buy(erp_kernel, bob["id"], "SO-1", "10.00")
    assert behaviour(erp_kernel, ada["id"]) == {}
    assert behaviour(erp_kernel, bob["id"])["EUR"]["purchase_count"] == 1


def test_currencies_are_summed_apart(erp_kernel):
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1", "10.00", "EUR")
    buy(erp_kernel, ada["id"], "SO-2", "30.00", "USD")
    buy(erp_kernel, ada["id"], "SO-3", "5.00", "USD")
    summaries = behaviour(erp_kernel, ada["id"])
    assert {c: (s["purchase_count"], s["total_spend"]) for c, s in summaries.items()} == {
        "EUR": (1, "10.0000"), "USD": (2, "35.0000")}


def test_favourite_categories_are_the_three_bought_most_often(erp_kernel):
    ada = customer(erp_kernel)
    baskets = [("shoes", "hats"), ("shoes",), ("bags", "hats"), ("shoes", "socks"), ("belts",)]
    for number, categories in enumerate(baskets):
        buy(erp_kernel, ada["id"], f"SO-{number}", categories=categories)
    assert behaviour(erp_kernel, ada["id"])["EUR"]["favourite_categories"] == [
        "shoes", "hats", "bags"]


def test_a_cancelled_purchase_no_longer_counts(erp_kernel):
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1", "10.00")
    buy(erp_kernel, ada["id"], "SO-2", "20.00")
    with erp_kernel.context() as ctx:
        result = cancel_purchase(ctx, "SO-2")
    assert result.cancelled
    summary = behaviour(erp_kernel, ada["id"])["EUR"]
    assert (summary["purchase_count"], summary["total_spend"]) == (1, "10.0000")


def test_cancelling_the_only_purchase_removes_the_summary(erp_kernel):
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1")
    with erp_kernel.context() as ctx:
        cancel_purchase(ctx, "SO-1")
    assert behaviour(erp_kernel, ada["id"]) == {}


def test_cancelling_twice_or_cancelling_the_unknown_changes_nothing(erp_kernel):
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1")
    with erp_kernel.context() as ctx:
        cancel_purchase(ctx, "SO-1")
        cancel_purchase(ctx, "SO-1")
        assert cancel_purchase(ctx, "SO-404") is None
    assert len(events(erp_kernel, "crm.purchase.cancelled")) == 1


def test_recording_a_cancelled_reference_again_revives_it(erp_kernel):
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1", "10.00")
    with erp_kernel.context() as ctx:
        cancel_purchase(ctx, "SO-1")
    buy(erp_kernel, ada["id"], "SO-1", "10.00")
    assert behaviour(erp_kernel, ada["id"])["EUR"]["purchase_count"] == 1


def test_recording_writes_an_event_in_the_callers_transaction(erp_kernel):
    ada = customer(erp_kernel)
    with pytest.raises(RuntimeError), erp_kernel.context() as ctx:
        record_purchase(ctx, ada["id"], "SO-1", Decimal("10.00"), "EUR", NOW)
        raise RuntimeError("the order failed to complete")
    assert (events(erp_kernel, "crm.purchase.recorded"), behaviour(erp_kernel, ada["id"])) == (
        [], {})
    buy(erp_kernel, ada["id"], "SO-1", "10.00", occurred_at=NOW, categories=("shoes",))
    assert events(erp_kernel, "crm.purchase.recorded") == [{
        "reference": "SO-1", "customer_id": ada["id"], "amount": "10.00", "currency": "EUR",
        "occurred_at": NOW.isoformat(), "categories": ["shoes"]}]


def test_a_purchase_of_a_merged_customer_goes_to_the_one_that_stayed(erp_kernel):
    from erp_crm.services import merge_customers

    ada, copy = customer(erp_kernel), customer(erp_kernel, "Ada (copy)")
    with erp_kernel.context() as ctx:
        merge_customers(ctx, ada["id"], copy["id"])
    recorded = buy(erp_kernel, copy["id"], "SO-1")
    assert recorded.customer_id == ada["id"]
    assert behaviour(erp_kernel, ada["id"])["EUR"]["purchase_count"] == 1


@pytest.mark.parametrize(("field", "value"), [
    ("amount", 10.5), ("amount", Decimal("-1")), ("amount", Decimal("0.00001")),
    ("currency", "eur"), ("occurred_at", NOW.replace(tzinfo=None)), ("reference", ""),
])
def test_bad_values_are_refused(erp_kernel, field, value):
    ada = customer(erp_kernel)
    values = {"customer_id": ada["id"], "reference": "SO-1", "amount": Decimal("1"),
              "currency": "EUR", "occurred_at": NOW, field: value}
    with pytest.raises(ValidationError) as refused, erp_kernel.context() as ctx:
        record_purchase(ctx, **values)
    assert list(refused.value.errors) == [field]


def test_an_unknown_customer_is_not_found(erp_kernel):
    with pytest.raises(NotFoundError), erp_kernel.context() as ctx:
        record_purchase(ctx, 999, "SO-1", Decimal("1"), "EUR", NOW)


def test_purchases_and_summaries_are_readable_through_the_api(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1", "10.00")
    purchases = erp_client.get("/api/v1/crm/purchases", params={"customer_id": ada["id"]})
    assert [(p["reference"], p["amount"]) for p in purchases.json()["items"]] == [
        ("SO-1", "10.0000")]
    summaries = erp_client.get("/api/v1/crm/behaviours", params={"customer_id": ada["id"]})
    assert [s["total_spend"] for s in summaries.json()["items"]] == ["10.0000"]
    assert get(erp_kernel, "customer", ada["id"])["tier"] == "bronze"


def statements_to_record(kernel: Kernel, customer_id: int, reference: str,
                         categories: tuple[str, ...]) -> list[str]:
    """The SQL statements one ``record_purchase`` call runs (transaction control, such as
    the kernel's ``BEGIN IMMEDIATE`` on SQLite, excluded)."""
    seen: list[str] = []

    def count(_connection, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    with kernel.context() as ctx:
        sa.event.listen(kernel.engine, "before_cursor_execute", count)
        try:
            record_purchase(ctx, customer_id, reference, Decimal("10.00"), "EUR", NOW,
                            categories)
        finally:
            sa.event.remove(kernel.engine, "before_cursor_execute", count)
    return seen


def test_recording_a_purchase_costs_the_same_statements_after_one_or_thirty(erp_kernel):
    set_tier_rules(erp_kernel, ("member", 10, None, 1, "0"))  # no tier change below
    baskets = [("shoes", "hats"), ("socks",), ("bags", "shoes"), ("belts", "hats", "scarves")]
    costs = []
    for earlier in (1, 30):
        ada = customer(erp_kernel, f"Customer with {earlier} purchases")
        with erp_kernel.context() as ctx:
            for number in range(earlier):
                record_purchase(ctx, ada["id"], f"SO-{earlier}-{number}", Decimal("10.00"),
                                "EUR", NOW, baskets[number % len(baskets)])
        costs.append(len(statements_to_record(erp_kernel, ada["id"], f"SO-{earlier}-new",
                                              ("hats", "gloves"))))
    # lock and read, purchase, its categories, summaries, category tally, summary
    assert costs == [6, 6]
