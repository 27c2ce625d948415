"""Shipments from orders (LOG-1), through the API: chosen lines, several shipments per
order, packages, customs data, hand-over shipping the order, returns with return labels."""

from __future__ import annotations

from decimal import Decimal

from erp_sdk.testing import assert_migrations_match_models

API = "/api/v1/logistics"


def lines_of(client, order_id):
    return {line["product_id"]: line for line in client.get(
        "/api/v1/orders/order-lines", params={"order_id": order_id}).json()["items"]}


def make_shipment(client, order_id, lines=(), packages=()):
    response = client.post(f"{API}/shipments/from-order",
                           json={"order_id": order_id, "lines": list(lines),
                                 "packages": list(packages)})
    assert response.status_code == 201, response.text
    return response.json()


def label_and_hand_over(client, shipment_id):
    rated = client.post(f"{API}/shipments/{shipment_id}/rates")
    assert rated.status_code == 200, rated.text
    labelled = client.post(f"{API}/shipments/{shipment_id}/labels")
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["state"] == "labelled", labelled.json()
    handed = client.post(f"{API}/shipments/{shipment_id}/hand_over")
    assert handed.status_code == 200, handed.text
    return handed.json()


def test_the_migrations_create_exactly_the_models(kernel):
    assert_migrations_match_models(kernel, "logistics")


def test_handing_over_a_shipment_of_chosen_lines_ships_exactly_those(
        erp_client, place_order, shop, tablerate):
    order = place_order(tea=2, mug=1)
    tea = lines_of(erp_client, order["id"])[shop["tea"]]
    shipment = make_shipment(erp_client, order["id"],
                             [{"order_line_id": tea["id"], "quantity": "1"}],
                             [{"weight_kg": "0.8", "length_cm": "20", "width_cm": "15",
                               "height_cm": "10",
                               "contents": [{"order_line_id": tea["id"], "quantity": "1"}]}])
    assert shipment["state"] == "draft" and shipment["number"].startswith("SH-")
    assert [p["weight_kg"] for p in shipment["packages"]] == ["0.8000"]

    handed = label_and_hand_over(erp_client, shipment["id"])

    assert handed["state"] == "handed_over"
    after = erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()
    assert after["state"] == "partially_shipped"
    shipped = lines_of(erp_client, order["id"])
    assert Decimal(shipped[shop["tea"]]["quantity_shipped"]) == 1
    assert Decimal(shipped[shop["mug"]]["quantity_shipped"]) == 0
    level = erp_client.get("/api/v1/inventory/stock-levels",
                           params={"product_id": shop["tea"]}).json()["items"][0]
    assert Decimal(level["on_hand"]) == 9


def test_the_orders_own_ship_route_is_refused_while_logistics_is_enabled(
        erp_client, place_order, shop):
    order = place_order(tea=2, mug=1)
    response = erp_client.post(f"/api/v1/orders/orders/{order['id']}/ship",
                               json={"shipment_id": 1, "shipment": "SH-000001"})
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "ships through a shipment" in response.json()["detail"]
    assert erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()["state"] == "confirmed"
    assert all(Decimal(line["quantity_shipped"]) == 0
               for line in lines_of(erp_client, order["id"]).values())


def test_two_shipments_of_one_order_ship_it_whole(erp_client, place_order, shop, tablerate):
    order = place_order(tea=2, mug=1)
    lines = lines_of(erp_client, order["id"])
    first = make_shipment(erp_client, order["id"],
                          [{"order_line_id": lines[shop["tea"]]["id"], "quantity": "2"}])
    second = make_shipment(erp_client, order["id"])  # what is left: the mug

    assert [line["order_line_id"] for line in second["lines"]] == [lines[shop["mug"]]["id"]]
    label_and_hand_over(erp_client, first["id"])
    label_and_hand_over(erp_client, second["id"])
    assert erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()["state"] == "shipped"


def test_an_order_line_is_not_put_in_two_open_shipments(erp_client, place_order, shop):
    order = place_order(tea=2, mug=0)
    make_shipment(erp_client, order["id"])
    refused = erp_client.post(f"{API}/shipments/from-order", json={"order_id": order["id"]})
    assert refused.status_code == 409
    line = lines_of(erp_client, order["id"])[shop["tea"]]
    too_much = erp_client.post(f"{API}/shipments/from-order", json={
        "order_id": order["id"], "lines": [{"order_line_id": line["id"], "quantity": "1"}]})
    assert too_much.status_code == 422


def test_a_cross_border_shipment_declares_its_customs_lines(
        erp_client, place_order, shop, fake_swiftpost, swiftpost):
    order = place_order(country="CH", tea=1, mug=0)
    line = lines_of(erp_client, order["id"])[shop["tea"]]
    shipment = make_shipment(erp_client, order["id"], [
        {"order_line_id": line["id"], "hs_code": "090240", "origin_country": "cn",
         "customs_value": "4.20"}])
    assert shipment["lines"][0]["hs_code"] == "090240"
    assert shipment["lines"][0]["origin_country"] == "CN"

    label_and_hand_over(erp_client, shipment["id"])

    [label] = fake_swiftpost.labels.values()
    assert label["service"] == "standard"


def test_a_return_shipment_gets_a_return_label(erp_client, place_order, fake_swiftpost,
                                               swiftpost):
    order = place_order(tea=1, mug=0)
    shipment = make_shipment(erp_client, order["id"])
    label_and_hand_over(erp_client, shipment["id"])

    returned = erp_client.post(f"{API}/shipments/{shipment['id']}/return", json={})
    assert returned.status_code == 201, returned.text
    back = returned.json()
    assert back["kind"] == "return" and back["return_of_id"] == shipment["id"]
    erp_client.post(f"{API}/shipments/{back['id']}/rates")
    labelled = erp_client.post(f"{API}/shipments/{back['id']}/labels").json()

    [package] = labelled["packages"]
    pdf = erp_client.get(f"{API}/packages/{package['id']}/label")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"RETURN" in pdf.content
    order_after = erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()
    assert order_after["state"] == "shipped"


def cancel_order(client, order_id):
    return client.post(f"/api/v1/orders/orders/{order_id}/cancel")


def test_cancelling_an_order_cancels_its_draft_shipments(erp_client, place_order, shop):
    order = place_order(tea=2, mug=1)
    lines = lines_of(erp_client, order["id"])
    first = make_shipment(erp_client, order["id"],
                          [{"order_line_id": lines[shop["tea"]]["id"], "quantity": "2"}])
    second = make_shipment(erp_client, order["id"])

    cancelled = cancel_order(erp_client, order["id"])

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    for shipment in (first, second):
        assert erp_client.get(f"{API}/shipments/{shipment['id']}").json()["state"] == \
            "cancelled"


def test_an_order_with_a_labelled_shipment_is_cancelled_only_once_its_labels_are_voided(
        erp_client, place_order, tablerate):
    order = place_order()
    shipment = make_shipment(erp_client, order["id"])
    assert erp_client.post(f"{API}/shipments/{shipment['id']}/rates").status_code == 200
    assert erp_client.post(f"{API}/shipments/{shipment['id']}/labels").json()["state"] == \
        "labelled"

    refused = cancel_order(erp_client, order["id"])

    assert refused.status_code == 409
    assert shipment["number"] in refused.json()["detail"]
    assert "void" in refused.json()["detail"]
    assert erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()["state"] == \
        "confirmed"
    assert erp_client.get(f"{API}/shipments/{shipment['id']}").json()["state"] == "labelled"

    assert erp_client.post(f"{API}/shipments/{shipment['id']}/labels/void").status_code == 200
    assert cancel_order(erp_client, order["id"]).json()["state"] == "cancelled"
    assert erp_client.get(f"{API}/shipments/{shipment['id']}").json()["state"] == "cancelled"


def test_a_draft_shipment_whose_label_purchase_is_unknown_keeps_its_order_from_cancelling(
        erp_client, place_order, swiftpost, fake_swiftpost):
    order = place_order()
    shipment = make_shipment(erp_client, order["id"])
    assert erp_client.post(f"{API}/shipments/{shipment['id']}/rates").status_code == 200
    fake_swiftpost.purchase_fault = "server_error"
    lost = erp_client.post(f"{API}/shipments/{shipment['id']}/labels").json()
    assert lost["state"] == "draft" and lost["packages"][0]["label_state"] == "unknown"

    refused = cancel_order(erp_client, order["id"])

    assert refused.status_code == 409
    assert "void them first" in refused.json()["detail"]
    assert erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()["state"] == \
        "confirmed"
    assert erp_client.get(f"{API}/shipments/{shipment['id']}").json()["state"] == "draft"
