"""Purchase orders from draft to closed, receipts into stock, through the API."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from supply_helpers import API, ok, share_the_kernel_per_module

from erp_inventory.ledger import Move, StockLevel
from erp_inventory.reservations import ReservationLine, reserve, ship_reserved
from erp_inventory.warehouses import Location

pytestmark = pytest.mark.erp_plugins("supply")
erp_kernel, erp_app, erp_token = share_the_kernel_per_module()


def receive(client, order, lines, status=201, **extra):
    """``lines``: ``(line, quantity)`` or ``(line, quantity, rejected quantity)``."""
    return ok(client.post(f"{API}/purchase-orders/{order['id']}/receive", json={
        "lines": [{"line_id": line["id"], "quantity": quantity,
                   "rejected_quantity": rejected[0] if rejected else "0"}
                  for line, quantity, *rejected in lines], **extra}), status)


def stock(kernel, product_id, warehouse_id):
    with kernel.transaction() as session:
        row = session.scalar(sa.select(StockLevel).where(
            StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id))
        return row.on_hand if row else Decimal(0)


def cost(client, product_id):
    return Decimal(ok(client.get(f"/api/v1/inventory/products/{product_id}"))["cost"])


def test_an_order_takes_the_suppliers_currency_and_totals_its_lines(
        erp_client, make_supplier, make_order, make_product):
    supplier = make_supplier("USD")
    order = make_order(supplier, [(make_product(), "3", "2.50"), (make_product(), "1", "4")],
                       state="draft")
    fetched = ok(erp_client.get(f"{API}/purchase-orders/{order['id']}"))
    assert fetched["currency"] == "USD"
    assert fetched["number"] == f"PO-{order['id']:06d}"
    assert Decimal(fetched["untaxed_amount"]) == Decimal("11.50")


def test_an_empty_order_cannot_be_sent(erp_client, make_supplier, make_order):
    order = make_order(make_supplier(), [], state="draft")
    refused = erp_client.post(f"{API}/purchase-orders/{order['id']}/send")
    assert refused.status_code == 409
    assert "no lines" in refused.json()["detail"]


def test_lines_of_a_sent_order_do_not_change(erp_client, make_supplier, make_order,
                                             make_product):
    order = make_order(make_supplier(), [(make_product(), "3", "2")], state="sent")
    line = order["lines"][0]
    refused = erp_client.patch(f"{API}/purchase-order-lines/{line['id']}",
                               json={"quantity": "5"}, headers={"If-Match": str(line["version"])})
    assert refused.status_code == 409


def test_the_supplier_confirms_with_other_quantities_and_dates(
        erp_client, make_supplier, make_order, make_product, today):
    order = make_order(make_supplier(), [(make_product(), "10", "2"), (make_product(), "4", "1")],
                       state="sent")
    first, second = order["lines"]
    later = (today.replace(day=1) if today.day > 1 else today).isoformat()
    confirmed = ok(erp_client.post(
        f"{API}/purchase-orders/{order['id']}/supplier-confirmation",
        json={"lines": [{"line_id": first["id"], "quantity": "8", "expected_date": later}]}))
    assert confirmed["state"] == "confirmed"
    assert confirmed["confirmed_at"] is not None
    line = ok(erp_client.get(f"{API}/purchase-order-lines/{first['id']}"))
    assert (line["quantity"], line["original_quantity"], line["expected_date"]) == (
        "8.0000", "10.0000", later)
    assert Decimal(confirmed["untaxed_amount"]) == Decimal("20.00")  # 8 x 2 + 4 x 1
    untouched = ok(erp_client.get(f"{API}/purchase-order-lines/{second['id']}"))
    assert untouched["original_quantity"] is None


def test_a_partial_receipt_leaves_a_backorder_and_the_rest_completes_it(
        erp_client, erp_kernel, make_supplier, make_order, make_product, warehouse):
    product = make_product()
    order = make_order(make_supplier(), [(product, "10", "3")])
    line = order["lines"][0]

    receipt = receive(erp_client, order, [(line, "6")])

    assert ok(erp_client.get(f"{API}/purchase-orders/{order['id']}"))["state"] == \
        "partially_received"
    assert stock(erp_kernel, product, warehouse) == 6
    assert receipt["lines"][0]["quantity"] == "6.0000"
    with erp_kernel.transaction() as session:
        move = session.get(Move, receipt["lines"][0]["move_id"])
        assert (move.reason, move.origin) == ("purchase", f"supply.purchase_order:{order['id']}")
    receive(erp_client, order, [(line, "4")])
    assert ok(erp_client.get(f"{API}/purchase-orders/{order['id']}"))["state"] == "received"
    assert stock(erp_kernel, product, warehouse) == 10
    closed = ok(erp_client.post(f"{API}/purchase-orders/{order['id']}/close"))
    assert closed["state"] == "closed"


def test_splitting_a_backorder_moves_what_is_due_to_a_new_order(
        erp_client, make_supplier, make_order, make_product):
    first, second = make_product(), make_product()
    order = make_order(make_supplier(), [(first, "10", "3"), (second, "5", "1")])
    receipt = receive(erp_client, order, [(order["lines"][0], "7")], split_backorder=True)

    backorder = receipt["backorder"]
    assert backorder["state"] == "confirmed"
    assert backorder["backorder_of_id"] == order["id"]
    lines = ok(erp_client.get(f"{API}/purchase-order-lines",
                              params={"order_id": backorder["id"]}))["items"]
    assert sorted((line["product_id"], line["quantity"]) for line in lines) == sorted(
        [(first, "3.0000"), (second, "5.0000")])
    original = ok(erp_client.get(f"{API}/purchase-orders/{order['id']}"))
    assert original["state"] == "closed"
    old_lines = ok(erp_client.get(f"{API}/purchase-order-lines",
                                  params={"order_id": order["id"]}))["items"]
    assert sorted(line["cancelled_quantity"] for line in old_lines) == ["3.0000", "5.0000"]


def test_over_receipt_is_accepted_within_the_tolerance_only(
        erp_client, make_supplier, make_order, make_product):
    order = make_order(make_supplier(over_receipt_tolerance="0.05"),
                       [(make_product(), "100", "1")])
    line = order["lines"][0]
    refused = erp_client.post(f"{API}/purchase-orders/{order['id']}/receive",
                              json={"lines": [{"line_id": line["id"], "quantity": "106"}]})
    assert refused.status_code == 409
    assert "tolerance" in refused.json()["detail"]
    receive(erp_client, order, [(line, "105")])
    assert ok(erp_client.get(f"{API}/purchase-orders/{order['id']}"))["state"] == "received"


def test_rejected_goods_go_to_the_damaged_location_not_into_stock(
        erp_client, erp_kernel, make_supplier, make_order, make_product, warehouse):
    product = make_product()
    order = make_order(make_supplier(), [(product, "10", "2")])
    receipt = receive(erp_client, order, [(order["lines"][0], "8", "2")])
    assert stock(erp_kernel, product, warehouse) == 8
    with erp_kernel.transaction() as session:
        rejected = session.get(Move, receipt["lines"][0]["rejected_move_id"])
        target = session.get(Location, rejected.to_location_id)
        assert (target.kind, rejected.quantity) == ("damaged", 2)
    line = ok(erp_client.get(f"{API}/purchase-order-lines/{order['lines'][0]['id']}"))
    assert (line["received_quantity"], line["rejected_quantity"]) == ("8.0000", "2.0000")
    assert ok(erp_client.get(f"{API}/purchase-orders/{order['id']}"))["state"] == \
        "partially_received"


def test_moving_average_cost_after_receipts_in_two_currencies(
        erp_client, make_supplier, make_order, make_product, today):
    product = make_product()
    ok(erp_client.post("/api/v1/kernel/exchange-rates", json={
        "currency": "USD", "quote_currency": "EUR", "rate_date": today.isoformat(),
        "rate": "0.9"}), 201)
    euro = make_order(make_supplier("EUR"), [(product, "10", "10")])
    receive(erp_client, euro, [(euro["lines"][0], "10")])
    assert cost(erp_client, product) == Decimal("10")

    dollar = make_order(make_supplier("USD"), [(product, "10", "20")])
    receipt = receive(erp_client, dollar, [(dollar["lines"][0], "10")])

    assert Decimal(receipt["lines"][0]["unit_cost"]) == Decimal("18")  # 20 USD x 0.9
    assert cost(erp_client, product) == Decimal("14")  # (10 x 10 + 10 x 18) / 20
    history = ok(erp_client.get(f"{API}/price-paids", params={"product_id": product}))
    assert sorted((row["currency"], row["unit_price"], row["unit_cost"])
                  for row in history["items"]) == [("EUR", "10.0000", "10.0000"),
                                                   ("USD", "20.0000", "18.0000")]


def test_a_receipt_keeps_its_days_rate_exactly_to_ten_places(
        erp_client, erp_kernel, make_supplier, make_order, make_product, today):
    from erp_supply.receipts import Receipt

    ok(erp_client.post("/api/v1/kernel/exchange-rates", json={
        "currency": "CHF", "quote_currency": "EUR", "rate_date": today.isoformat(),
        "rate": "0.9234567891"}), 201)
    order = make_order(make_supplier("CHF"), [(make_product(), "3", "10")])
    receipt = receive(erp_client, order, [(order["lines"][0], "3")])
    with erp_kernel.transaction() as session:
        assert session.get(Receipt, receipt["id"]).exchange_rate == Decimal("0.9234567891")
    assert Decimal(receipt["lines"][0]["unit_cost"]) == Decimal("9.2346")  # 10 x the rate


def test_a_receipt_needs_a_rate_for_the_orders_currency(
        erp_client, make_supplier, make_order, make_product):
    order = make_order(make_supplier("JPY"), [(make_product(), "1", "500")])
    refused = erp_client.post(f"{API}/purchase-orders/{order['id']}/receive",
                              json={"lines": [{"line_id": order["lines"][0]["id"],
                                               "quantity": "1"}]})
    assert refused.status_code == 422
    assert "no exchange rate for JPY" in refused.json()["detail"]
    assert ok(erp_client.get(f"{API}/purchase-orders/{order['id']}"))["state"] == "confirmed"


def test_freight_and_duty_are_landed_into_the_cost_by_value(
        erp_client, make_supplier, make_order, make_product):
    cheap, dear = make_product(), make_product()
    order = make_order(make_supplier(), [(cheap, "10", "1"), (dear, "10", "3")],
                       freight="8", duty="4")  # 12 over a value of 40: +30 % on each price
    receipt = receive(erp_client, order, [(order["lines"][0], "10"), (order["lines"][1], "10")])
    assert [line["unit_cost"] for line in receipt["lines"]] == ["1.3000", "3.9000"]
    assert cost(erp_client, dear) == Decimal("3.9")


def test_freight_entered_after_a_receipt_re_costs_the_units_still_on_hand(
        erp_client, run, warehouse, make_supplier, make_order, make_product):
    """10 of A at 10.00 and 10 of B at 5.00 received without freight (ordered value 150);
    4 of A are sold; then 30 of freight arrives: +20 % on each price, so each unit of A
    carries 2.00 more and each of B 1.00. The 6 of A left are worth 6 x 12, B 10 x 6."""
    a, b = make_product(), make_product()
    order = make_order(make_supplier(), [(a, "10", "10"), (b, "10", "5")])
    receive(erp_client, order, [(order["lines"][0], "10"), (order["lines"][1], "10")])
    [reservation] = run(reserve, warehouse, [ReservationLine(a, Decimal(4), "test:sale")])
    run(ship_reserved, reservation)
    assert (cost(erp_client, a), cost(erp_client, b)) == (10, 5)

    ok(erp_client.patch(f"{API}/purchase-orders/{order['id']}", json={"freight": "30"}))

    assert (cost(erp_client, a), cost(erp_client, b)) == (12, 6)
    ok(erp_client.patch(f"{API}/purchase-orders/{order['id']}", json={"duty": "15"}))
    assert (cost(erp_client, a), cost(erp_client, b)) == (13, Decimal("6.5"))


def test_an_order_with_receipts_cannot_be_cancelled(
        erp_client, make_supplier, make_order, make_product):
    order = make_order(make_supplier(), [(make_product(), "10", "1")])
    receive(erp_client, order, [(order["lines"][0], "1")])
    refused = erp_client.post(f"{API}/purchase-orders/{order['id']}/cancel")
    assert refused.status_code == 409


def test_receiving_a_sent_order_before_confirmation_is_refused(
        erp_client, make_supplier, make_order, make_product):
    order = make_order(make_supplier(), [(make_product(), "10", "1")], state="sent")
    refused = erp_client.post(f"{API}/purchase-orders/{order['id']}/receive",
                              json={"lines": [{"line_id": order["lines"][0]["id"],
                                               "quantity": "1"}]})
    assert refused.status_code == 409


def test_the_receiving_transitions_cannot_claim_goods_not_received(
        erp_client, make_supplier, make_order, make_product):
    order = make_order(make_supplier(), [(make_product(), "10", "1")])
    assert erp_client.post(f"{API}/purchase-orders/{order['id']}/receive_all").status_code == 409
    assert erp_client.post(f"{API}/purchase-orders/{order['id']}/receive_part").status_code \
        == 409
