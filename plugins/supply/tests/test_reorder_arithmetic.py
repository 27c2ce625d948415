"""Reorder points, targets and the lead-time window against worked examples (the pure
arithmetic of ``plan_rule``, no database)."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from erp_supply.replenishment import LeadTimeStats, RuleInput, plan_rule
from erp_supply.suppliers import Offer

TODAY = dt.date(2026, 3, 2)
EUR = {"EUR": Decimal(1), "USD": Decimal("0.9")}


def rule(**fields):
    values = {"id": 1, "product_id": 7, "method": "computed", "minimum": None, "maximum": None,
              "velocity_days": 30, "review_days": 14, "service_factor": Decimal("1.65"),
              "max_lead_time_days": None}
    return SimpleNamespace(**{**values, **fields})


def offer(supplier_id=1, lead=10, moq="20", breaks=(("0", "4.00"), ("40", "3.50")),
          currency="EUR", freight="0", duty="0"):
    return Offer(supplier_id * 100, supplier_id, currency, Decimal(moq), lead, Decimal(freight),
                 Decimal(duty), tuple((Decimal(m), Decimal(p)) for m, p in breaks))


def in_days(days):
    return TODAY + dt.timedelta(days=days)


# Velocity 90 / 30 = 3 a day; lead time 10 days, measured 8, 10, 12 days: sigma 2.
# safety = 1.65 x 3 x 2 = 9.9; reorder point = 3 x 10 + 9.9 = 39.9;
# target = 39.9 + 3 x 14 = 81.9.
MEASURED = {(1, 7): LeadTimeStats(3, 8 + 10 + 12, 64 + 100 + 144)}


def test_the_worked_example_orders_up_to_the_target():
    # available 30 - 5 = 25, plus 10 due in 5 days: position 35 <= 39.9.
    data = RuleInput(rule(), Decimal(30), Decimal(5), Decimal(90),
                     [(in_days(5), Decimal(10)), (in_days(30), Decimal(100))])

    chosen, _, explanation = plan_rule(data, [offer()], MEASURED, EUR, TODAY)

    assert chosen.safety_stock == Decimal("9.9")
    assert chosen.reorder_point == Decimal("39.9")
    assert chosen.target == Decimal("81.9")
    assert chosen.position == Decimal("35")
    assert chosen.needed == Decimal("46.9")  # to the target, not to the reorder point
    assert chosen.quantity == Decimal("47")  # whole units, above the minimum order of 20
    assert chosen.unit_price == Decimal("3.50")  # the price break from 40 on
    assert explanation["incoming"] == {"within_lead_time": "10", "beyond_lead_time": "100",
                                       "window_end": "2026-03-12"}
    assert explanation["lead_time"] == {"days": 10, "stddev_days": "2.0000",
                                        "receipts_measured": 3}
    assert explanation["velocity"]["per_day"] == "3.0000"


def test_an_order_due_beyond_the_lead_time_does_not_count():
    """100 units due in 30 days would lift the position to 135: the stockout within the
    lead time would be hidden."""
    later = RuleInput(rule(), Decimal(30), Decimal(5), Decimal(90), [(in_days(30),
                                                                      Decimal(100))])
    inside = RuleInput(rule(), Decimal(30), Decimal(5), Decimal(90), [(in_days(10),
                                                                       Decimal(100))])

    ordered, _, _ = plan_rule(later, [offer()], MEASURED, EUR, TODAY)
    not_ordered, _, explanation = plan_rule(inside, [offer()], MEASURED, EUR, TODAY)

    assert ordered.position == Decimal(25)
    assert ordered.quantity == Decimal(57)  # 81.9 - 25, rounded up
    assert not_ordered is None  # due on the last day of the window: it counts
    assert explanation["position"] == "125.0000"
    assert "nothing to order" in explanation["reasons"][-1]


def test_without_receipts_the_safety_stock_is_zero():
    data = RuleInput(rule(), Decimal(0), Decimal(0), Decimal(90), [])
    chosen, _, _ = plan_rule(data, [offer()], {}, EUR, TODAY)
    assert (chosen.safety_stock, chosen.reorder_point, chosen.target) == (0, 30, 72)
    assert chosen.quantity == 72


def test_the_minimum_order_quantity_rounds_a_small_need_up():
    data = RuleInput(rule(method="fixed", minimum=Decimal(10), maximum=Decimal(15)),
                     Decimal(8), Decimal(0), Decimal(0), [])
    chosen, _, _ = plan_rule(data, [offer(moq="20")], {}, EUR, TODAY)
    assert (chosen.reorder_point, chosen.target, chosen.needed, chosen.quantity) == (
        10, 15, 7, 20)


def test_a_fixed_rule_orders_nothing_above_its_minimum():
    data = RuleInput(rule(method="fixed", minimum=Decimal(10), maximum=Decimal(50)),
                     Decimal(11), Decimal(0), Decimal(300), [])
    chosen, _, _ = plan_rule(data, [offer()], {}, EUR, TODAY)
    assert chosen is None


def test_the_lowest_landed_cost_wins_in_the_company_currency():
    # 35 available last 11.7 days: the three 10-day suppliers are fast enough.
    # 47 units: A 3.50 EUR; B 3.60 USD x 0.9 = 3.24 + freight 0.10 USD (0.09) = 3.33 EUR;
    # C 3.00 EUR + 15 % duty = 3.45.
    data = RuleInput(rule(), Decimal(40), Decimal(5), Decimal(90), [])
    measured = {(supplier, 7): MEASURED[1, 7] for supplier in (1, 2, 3)}
    a = offer(1)
    b = offer(2, currency="USD", breaks=(("0", "3.60"),), freight="0.10")
    c = offer(3, breaks=(("0", "3.00"),), duty="0.15")

    chosen, candidates, explanation = plan_rule(data, [a, b, c], measured, EUR, TODAY)

    assert chosen.offer.supplier_id == 2
    assert [candidate.landed_unit_cost for candidate in candidates] == [
        Decimal("3.5"), Decimal("3.33"), Decimal("3.45")]
    assert [row["chosen"] for row in explanation["suppliers"]] == [False, True, False]


def test_a_cheaper_supplier_too_slow_for_the_stock_left_is_passed_over():
    # 15 available at 3 a day last 5 days: a 20-day supplier arrives after the stockout.
    data = RuleInput(rule(), Decimal(15), Decimal(0), Decimal(90), [])
    fast = offer(1, lead=5, breaks=(("0", "4.00"),))
    slow = offer(2, lead=20, breaks=(("0", "2.00"),))
    chosen, candidates, _ = plan_rule(data, [fast, slow], {}, EUR, TODAY)
    assert chosen.offer.supplier_id == 1
    assert [c.meets_lead_time for c in candidates] == [True, False]


def test_the_rules_maximum_lead_time_excludes_slow_suppliers():
    data = RuleInput(rule(max_lead_time_days=7), Decimal(300), Decimal(0), Decimal(90), [])
    fast = offer(1, lead=5, breaks=(("0", "4.00"),))
    slow = offer(2, lead=10, breaks=(("0", "2.00"),))
    _, candidates, _ = plan_rule(data, [fast, slow], {}, EUR, TODAY)
    assert [c.meets_lead_time for c in candidates] == [True, False]


def test_when_no_supplier_is_fast_enough_the_fastest_is_chosen():
    data = RuleInput(rule(), Decimal(3), Decimal(0), Decimal(90), [])  # lasts one day
    chosen, _, explanation = plan_rule(
        data, [offer(1, lead=5, breaks=(("0", "9"),)), offer(2, lead=9, breaks=(("0", "1"),))],
        {}, EUR, TODAY)
    assert chosen.offer.supplier_id == 1
    assert "the fastest is chosen" in explanation["reasons"][0]


def test_a_supplier_in_a_currency_without_a_rate_is_not_chosen():
    data = RuleInput(rule(), Decimal(0), Decimal(0), Decimal(90), [])
    chosen, _, _ = plan_rule(data, [offer(1, breaks=(("0", "5"),)),
                                    offer(2, currency="JPY", breaks=(("0", "1"),))],
                             {}, EUR, TODAY)
    assert chosen.offer.supplier_id == 1
