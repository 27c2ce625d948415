"""RFM tiers: configurable rules, evaluated at inclusive boundaries, recomputed on every
purchase change and for everyone by ``erp crm recompute-tiers``, with their history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from crm_helpers import NOW, buy, customer, events, get, set_tier_rules

from erp_core.cli import main
from erp_crm.behaviour import SpendFigures
from erp_crm.services import cancel_purchase, recompute_tiers
from erp_crm.tiers import Thresholds, TierChange, tier_for
from erp_sdk import PermissionDenied, utcnow

pytestmark = pytest.mark.erp_plugins("crm")

GOLD = Thresholds("gold", 30, "EUR", 90, 5, Decimal("1000.00"))
SILVER = Thresholds("silver", 20, "EUR", 180, 3, Decimal("300.00"))
RULES = [GOLD, SILVER]


def figures(count: int = 5, total: str = "1000.00", days_ago: float = 0) -> dict:
    return {"EUR": SpendFigures(count, Decimal(total), NOW - dt.timedelta(days=400),
                                NOW - dt.timedelta(days=days_ago))}


def test_the_best_ranked_rule_met_wins():
    assert tier_for(RULES, figures(), NOW) == "gold"
    assert tier_for(RULES, figures(count=4), NOW) == "silver"


def test_the_monetary_threshold_is_met_to_the_cent():
    assert tier_for(RULES, figures(total="1000.00"), NOW) == "gold"
    assert tier_for(RULES, figures(total="999.99"), NOW) == "silver"
    assert tier_for(RULES, figures(total="299.99", count=4), NOW) is None


def test_the_recency_threshold_includes_its_last_day_to_the_second():
    exactly = {"EUR": SpendFigures(5, Decimal(1000), NOW, NOW - dt.timedelta(days=90))}
    late = {"EUR": SpendFigures(5, Decimal(1000), NOW,
                                NOW - dt.timedelta(days=90, seconds=1))}
    assert tier_for(RULES, exactly, NOW) == "gold"
    assert tier_for(RULES, late, NOW) == "silver"


def test_the_frequency_threshold_is_a_minimum_count():
    assert tier_for(RULES, figures(count=3, total="300"), NOW) == "silver"
    assert tier_for(RULES, figures(count=2, total="300"), NOW) is None


def test_only_figures_in_the_rules_currency_count():
    assert tier_for(RULES, {"USD": figures()["EUR"]}, NOW) is None


def test_a_rule_without_recency_or_thresholds_takes_everyone():
    everyone = Thresholds("member", 1, "EUR", None, 0, Decimal(0))
    assert tier_for([GOLD, everyone], {}, NOW) == "member"


def test_a_purchase_promotes_the_customer_and_keeps_the_history(erp_kernel):
    set_tier_rules(erp_kernel, ("regular", 10, 365, 1, "0"), ("big spender", 20, 365, 2, "100"))
    ada = customer(erp_kernel)
    assert buy(erp_kernel, ada["id"], "SO-1", "60.00").tier == "regular"
    assert buy(erp_kernel, ada["id"], "SO-2", "40.00").tier == "big spender"
    with erp_kernel.transaction() as session:
        history = session.execute(sa.select(TierChange.old_tier, TierChange.new_tier,
                                            TierChange.reason).order_by(TierChange.id)).all()
    assert history == [(None, "regular", "purchase"), ("regular", "big spender", "purchase")]
    assert [(e["old_tier"], e["new_tier"]) for e in events(
        erp_kernel, "crm.customer.tier_changed")] == [(None, "regular"), ("regular", "big spender")]


def test_a_purchase_that_does_not_change_the_tier_leaves_no_history(erp_kernel):
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1")
    buy(erp_kernel, ada["id"], "SO-2")
    assert len(events(erp_kernel, "crm.customer.tier_changed")) == 1


def test_a_cancellation_demotes_the_customer(erp_kernel):
    set_tier_rules(erp_kernel, ("big spender", 20, None, 1, "100"))
    ada = customer(erp_kernel)
    buy(erp_kernel, ada["id"], "SO-1", "100.00")
    with erp_kernel.context() as ctx:
        assert cancel_purchase(ctx, "SO-1").tier is None
    assert events(erp_kernel, "crm.customer.tier_changed")[-1]["reason"] == "cancellation"


def test_tiers_decay_when_recomputed_later(erp_kernel):
    set_tier_rules(erp_kernel, ("recent", 10, 30, 1, "0"))
    ada = customer(erp_kernel)
    bought = utcnow()
    assert buy(erp_kernel, ada["id"], "SO-1", occurred_at=bought).tier == "recent"
    with erp_kernel.context() as ctx:
        assert recompute_tiers(ctx, as_of=bought + dt.timedelta(days=30)) == []
        [change] = recompute_tiers(ctx, as_of=bought + dt.timedelta(days=30, seconds=1))
    assert (change.customer_id, change.old_tier, change.new_tier) == (ada["id"], "recent", None)
    assert get(erp_kernel, "customer", ada["id"])["tier"] is None


def test_recomputing_tiers_needs_its_permission(erp_kernel, erp_principal):
    with pytest.raises(PermissionDenied), erp_kernel.context(erp_principal("crm.agent")) as ctx:
        recompute_tiers(ctx)


def test_tier_rules_are_configured_through_the_api(erp_client):
    response = erp_client.post("/api/v1/crm/tier-rules", json={
        "name": "platinum", "rank": 40, "currency": "EUR", "max_recency_days": 30,
        "min_frequency": 10, "min_monetary": "5000.00"})
    assert response.status_code == 201
    ranks = [r["name"] for r in erp_client.get("/api/v1/crm/tier-rules",
                                                params={"sort": "-rank"}).json()["items"]]
    assert ranks == ["platinum", "gold", "silver", "bronze"]


def test_a_tier_rule_with_a_negative_threshold_is_refused(erp_client):
    response = erp_client.post("/api/v1/crm/tier-rules", json={
        "name": "odd", "rank": 5, "currency": "EUR", "min_frequency": -1})
    assert response.status_code == 422
    assert response.json()["errors"] == {"min_frequency": "may not be negative"}


def test_two_rules_cannot_share_a_rank(erp_client):
    response = erp_client.post("/api/v1/crm/tier-rules", json={
        "name": "copper", "rank": 10, "currency": "EUR"})
    assert response.status_code == 409


def test_the_command_recomputes_every_customer_with_a_progress_bar(erp_kernel, erp_database_url):
    set_tier_rules(erp_kernel, ("recent", 10, 30, 1, "0"))
    for number in range(3):
        buy(erp_kernel, customer(erp_kernel, f"C{number}")["id"], f"SO-{number}")
    customer(erp_kernel, "No purchases")
    later = (utcnow() + dt.timedelta(days=31)).strftime("%Y-%m-%d")
    result = CliRunner().invoke(
        main, ["--database-url", erp_database_url, "crm", "recompute-tiers", "--as-of", later,
               "--batch-size", "2"], env={"ERP_DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    assert "Recomputing tiers" in result.output
    assert result.output.strip().endswith("4 customers recomputed, 3 tier changes")
    assert [e["reason"] for e in events(erp_kernel, "crm.customer.tier_changed")][-3:] == [
        "recompute"] * 3


def test_the_daily_job_recomputes_every_customer(erp_kernel):
    from erp_core.jobs import JobOutcome, job_statuses, run_job

    for number in range(2):
        customer(erp_kernel, f"C{number}")

    result = run_job(erp_kernel, "crm.recompute_tiers")

    assert result.outcome is JobOutcome.SUCCEEDED, result.error
    assert result.summary == "2 customers recomputed, 0 tier changes"
    [status] = [s for s in job_statuses(erp_kernel) if s["name"] == "crm.recompute_tiers"]
    assert status["schedule"] == "cron 30 2 * * *"
