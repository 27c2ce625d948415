"""``erp demo`` shows the supply plugin: orders in every state, receipts, a held bill and
replenishment suggestions."""

import pytest
from supply_helpers import API, ok

pytestmark = pytest.mark.erp_plugins("supply")


def test_the_demo_data_covers_every_state_and_a_held_bill(erp_kernel, erp_client):
    with erp_kernel.transaction() as session:
        erp_kernel.contribute("erp_load_demo_data", session=session, kernel=erp_kernel)
    states = {order["state"] for order in ok(erp_client.get(
        f"{API}/purchase-orders", params={"limit": "100"}))["items"]}
    assert states == {"draft", "sent", "confirmed", "partially_received", "received",
                      "closed", "cancelled"}
    assert ok(erp_client.get(f"{API}/receipts"))["items"]
    bills = {bill["state"] for bill in ok(erp_client.get(f"{API}/bills"))["items"]}
    assert bills == {"approved", "on_hold"}
    suggestions = ok(erp_client.get(f"{API}/suggestions"))["items"]
    assert suggestions
    explanation = ok(erp_client.get(f"{API}/suggestions/{suggestions[0]['id']}/explanation"))
    assert explanation["suppliers"]
