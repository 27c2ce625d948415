"""The supplier portal: a supplier's user reaches its own orders, notices and bills, and
nothing of another supplier's nor anything else of the business (a permission matrix)."""

import pytest
from supply_helpers import API, ok, share_the_kernel_per_module

pytestmark = pytest.mark.erp_plugins("supply")
erp_kernel, erp_app, erp_token = share_the_kernel_per_module()

PORTAL = "supply.supplier_portal"
OWN_COLLECTIONS = {
    f"{API}/suppliers": None, f"{API}/supplier-products": "supplier_id",
    f"{API}/price-breaks": None, f"{API}/purchase-orders": "supplier_id",
    f"{API}/purchase-order-lines": None, f"{API}/shipping-notices": "supplier_id",
    f"{API}/shipping-notice-lines": None, f"{API}/bills": "supplier_id",
    f"{API}/bill-lines": None,
}


@pytest.fixture
def two_suppliers(erp_client, make_supplier, make_offer, make_order, make_product, today):
    """Suppliers A and B, each with an offer, a sent order, a notice and a draft bill."""
    made = {}
    for name in ("a", "b"):
        supplier = make_supplier()
        product = make_product()
        offer = make_offer(supplier, product, {"0": "2"})
        order = make_order(supplier, [(product, "10", "2")], state="sent")
        notice = ok(erp_client.post(f"{API}/shipping-notices", json={
            "purchase_order_id": order["id"], "supplier_id": supplier["id"],
            "expected_date": today.isoformat()}), 201)
        notice_line = ok(erp_client.post(f"{API}/shipping-notice-lines", json={
            "notice_id": notice["id"], "order_line_id": order["lines"][0]["id"],
            "quantity": "10"}), 201)
        bill = ok(erp_client.post(f"{API}/bills", json={
            "supplier_id": supplier["id"], "purchase_order_id": order["id"],
            "bill_date": today.isoformat()}), 201)
        bill_line = ok(erp_client.post(f"{API}/bill-lines", json={
            "bill_id": bill["id"], "order_line_id": order["lines"][0]["id"], "quantity": "1",
            "unit_price": "2"}), 201)
        made[name] = {"supplier": supplier, "offer": offer, "order": order, "notice": notice,
                      "notice_line": notice_line, "bill": bill, "bill_line": bill_line,
                      "product": product}
    return made


@pytest.fixture
def portal_a(erp_client_for, two_suppliers):
    return erp_client_for(PORTAL, scope={"supplier_id": [two_suppliers["a"]["supplier"]["id"]]})


def test_a_supplier_lists_only_its_own_records(portal_a, two_suppliers):
    a = two_suppliers["a"]
    expected = {
        f"{API}/suppliers": [a["supplier"]["id"]],
        f"{API}/supplier-products": [a["offer"]["id"]],
        f"{API}/purchase-orders": [a["order"]["id"]],
        f"{API}/purchase-order-lines": [a["order"]["lines"][0]["id"]],
        f"{API}/shipping-notices": [a["notice"]["id"]],
        f"{API}/shipping-notice-lines": [a["notice_line"]["id"]],
        f"{API}/bills": [a["bill"]["id"]],
        f"{API}/bill-lines": [a["bill_line"]["id"]],
    }
    for path, ids in expected.items():
        assert [row["id"] for row in ok(portal_a.get(path))["items"]] == ids, path
    breaks = ok(portal_a.get(f"{API}/price-breaks"))["items"]
    assert {row["supplier_product_id"] for row in breaks} == {a["offer"]["id"]}


def test_another_suppliers_records_do_not_exist_for_it(portal_a, two_suppliers):
    b = two_suppliers["b"]
    for path in (f"{API}/suppliers/{b['supplier']['id']}",
                 f"{API}/supplier-products/{b['offer']['id']}",
                 f"{API}/purchase-orders/{b['order']['id']}",
                 f"{API}/purchase-order-lines/{b['order']['lines'][0]['id']}",
                 f"{API}/shipping-notices/{b['notice']['id']}",
                 f"{API}/shipping-notice-lines/{b['notice_line']['id']}",
                 f"{API}/bills/{b['bill']['id']}", f"{API}/bill-lines/{b['bill_line']['id']}",
                 f"{API}/suppliers/{b['supplier']['id']}/rating"):
        assert portal_a.get(path).status_code == 404, path
    assert portal_a.post(f"{API}/purchase-orders/{b['order']['id']}/supplier-confirmation",
                         json={}).status_code == 404
    assert portal_a.patch(f"{API}/bills/{b['bill']['id']}", json={"supplier_reference": "x"},
                          headers={"If-Match": "1"}).status_code == 404


def test_it_cannot_write_for_another_supplier(portal_a, two_suppliers, today):
    a, b = two_suppliers["a"], two_suppliers["b"]
    writes = [
        (f"{API}/bills", {"supplier_id": b["supplier"]["id"],
                          "purchase_order_id": b["order"]["id"],
                          "bill_date": today.isoformat()}),
        (f"{API}/bills", {"supplier_id": a["supplier"]["id"],
                          "purchase_order_id": b["order"]["id"],
                          "bill_date": today.isoformat()}),
        (f"{API}/bill-lines", {"bill_id": b["bill"]["id"],
                               "order_line_id": b["order"]["lines"][0]["id"],
                               "quantity": "1", "unit_price": "1"}),
        (f"{API}/bill-lines", {"bill_id": a["bill"]["id"],
                               "order_line_id": b["order"]["lines"][0]["id"],
                               "quantity": "1", "unit_price": "1"}),
        (f"{API}/shipping-notices", {"supplier_id": b["supplier"]["id"],
                                     "purchase_order_id": b["order"]["id"],
                                     "expected_date": today.isoformat()}),
        (f"{API}/shipping-notice-lines", {"notice_id": b["notice"]["id"],
                                          "order_line_id": b["order"]["lines"][0]["id"],
                                          "quantity": "1"}),
    ]
    for path, body in writes:
        status = portal_a.post(path, json=body).status_code
        assert status in (403, 404, 422), (path, body, status)
    moved = portal_a.patch(f"{API}/bills/{a['bill']['id']}",
                           json={"supplier_id": b["supplier"]["id"]},
                           headers={"If-Match": str(a["bill"]["version"])})
    assert moved.status_code in (403, 422)


def test_it_confirms_its_order_with_other_quantities_and_announces_the_shipment(
        portal_a, two_suppliers, today):
    a = two_suppliers["a"]
    line = a["order"]["lines"][0]
    confirmed = ok(portal_a.post(f"{API}/purchase-orders/{a['order']['id']}/"
                                 "supplier-confirmation",
                                 json={"lines": [{"line_id": line["id"], "quantity": "8"}]}))
    assert confirmed["state"] == "confirmed"
    notice = ok(portal_a.post(f"{API}/shipping-notices", json={
        "purchase_order_id": a["order"]["id"], "supplier_id": a["supplier"]["id"],
        "expected_date": today.isoformat(), "reference": "ASN-7"}), 201)
    ok(portal_a.post(f"{API}/shipping-notice-lines", json={
        "notice_id": notice["id"], "order_line_id": line["id"], "quantity": "8"}), 201)
    bill = ok(portal_a.post(f"{API}/bills", json={
        "supplier_id": a["supplier"]["id"], "purchase_order_id": a["order"]["id"],
        "bill_date": today.isoformat(), "supplier_reference": "A-1"}), 201)
    ok(portal_a.post(f"{API}/bill-lines", json={
        "bill_id": bill["id"], "order_line_id": line["id"], "quantity": "8",
        "unit_price": "2"}), 201)


def test_a_receipt_starts_from_the_suppliers_notice(erp_client, two_suppliers):
    a = two_suppliers["a"]
    ok(erp_client.post(f"{API}/purchase-orders/{a['order']['id']}/confirm"))
    receipt = ok(erp_client.post(f"{API}/purchase-orders/{a['order']['id']}/receive",
                                 json={"notice_id": a["notice"]["id"]}), 201)
    assert [line["quantity"] for line in receipt["lines"]] == ["10.0000"]
    notice = ok(erp_client.get(f"{API}/shipping-notices/{a['notice']['id']}"))
    assert (notice["state"], notice["receipt_id"]) == ("received", receipt["id"])


def test_it_may_not_act_as_the_buyer(portal_a, two_suppliers):
    a = two_suppliers["a"]
    order, bill = a["order"]["id"], a["bill"]["id"]
    for path in (f"{API}/purchase-orders/{order}/send", f"{API}/purchase-orders/{order}/cancel",
                 f"{API}/purchase-orders/{order}/close", f"{API}/purchase-orders/{order}/receive",
                 f"{API}/purchase-orders/{order}/backorder", f"{API}/bills/{bill}/match",
                 f"{API}/bills/{bill}/approve", f"{API}/bills/{bill}/release",
                 f"{API}/bills/{bill}/post", f"{API}/replenish"):
        assert portal_a.post(path, json={}).status_code == 403, path
    assert portal_a.patch(f"{API}/purchase-orders/{order}", json={"note": "x"},
                          headers={"If-Match": "1"}).status_code == 403


def test_it_reaches_nothing_else_of_the_business(portal_a, erp_client):
    """Every list route of the API other than its own collections is refused."""
    schema = ok(erp_client.get("/schema/openapi.json"))
    checked = 0
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path or get.get("security") == []:
            continue
        status = portal_a.get(path).status_code
        if path in OWN_COLLECTIONS:
            assert status == 200, path
        else:
            assert status in (403, 404), (path, status)
            checked += 1
    assert checked > 20
