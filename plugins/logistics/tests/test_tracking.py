"""Tracking (LOG-2): events pushed through the kernel's inbound webhook route and pulled by
the periodic job, ordered by their own timestamps, deduplicated, delivered for good."""

from __future__ import annotations

import datetime as dt

from test_shipments import API, label_and_hand_over, make_shipment

from erp_sdk.testing import serve

HOOK = "/api/v1/hooks/swiftpost/swiftpost"
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=5)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def handed_over(client, place_order):
    order = place_order(tea=1, mug=0)
    shipment = make_shipment(client, order["id"])
    shipment = label_and_hand_over(client, shipment["id"])
    details = client.get(f"{API}/shipments/{shipment['id']}/details").json()
    return order, details, details["packages"][0]["tracking_number"]


def push(client, fake, *scans):
    body = fake.webhook_body(list(scans))
    response = client.post(HOOK, content=body, headers=fake.signed_headers(body))
    assert response.status_code == 200, response.text
    return response.json()


def scan(fake, number, code, hours, **fields):
    return fake.scan(number, code, at=at(hours), push=False, **fields)


def package_of(client, shipment_id):
    return client.get(f"{API}/packages", params={"shipment_id": shipment_id}).json()["items"][0]


def test_a_pushed_scan_moves_the_package_and_keeps_the_raw_event(
        erp_client, place_order, swiftpost, fake_swiftpost):
    _, shipment, number = handed_over(erp_client, place_order)

    answer = push(erp_client, fake_swiftpost, scan(fake_swiftpost, number, "picked_up", 1,
                                                   location="Paris hub"))

    assert answer["result"]["applied"] == 1
    assert package_of(erp_client, shipment["id"])["tracking_status"] == "in_transit"
    [event] = erp_client.get(f"{API}/tracking-events", params={
        "tracking_number": number}).json()["items"]
    assert event["status"] == "in_transit" and event["raw"]["code"] == "picked_up"
    assert event["location"] == "Paris hub"
    shipment = erp_client.get(f"{API}/shipments/{shipment['id']}").json()
    assert shipment["tracking_status"] == "in_transit"


def test_a_late_event_is_kept_but_does_not_overwrite_a_newer_one(
        erp_client, place_order, swiftpost, fake_swiftpost):
    _, shipment, number = handed_over(erp_client, place_order)
    push(erp_client, fake_swiftpost, scan(fake_swiftpost, number, "out_for_delivery", 3))
    late = push(erp_client, fake_swiftpost, scan(fake_swiftpost, number, "picked_up", 1))

    assert late["result"]["applied"] == 0 and late["result"]["received"] == 1
    assert package_of(erp_client, shipment["id"])["tracking_status"] == "out_for_delivery"
    kept = erp_client.get(f"{API}/tracking-events", params={
        "tracking_number": number, "sort": "occurred_at"}).json()["items"]
    assert [(e["status"], e["applied"]) for e in kept] == [("in_transit", False),
                                                           ("out_for_delivery", True)]


def test_a_duplicate_event_is_applied_once(erp_client, place_order, swiftpost,
                                           fake_swiftpost):
    _, _shipment, number = handed_over(erp_client, place_order)
    picked = scan(fake_swiftpost, number, "picked_up", 1)
    first = push(erp_client, fake_swiftpost, picked)
    resent = push(erp_client, fake_swiftpost, picked)
    in_a_batch = push(erp_client, fake_swiftpost, picked,
                      scan(fake_swiftpost, number, "arrived_at_hub", 2))

    assert first["duplicate"] is False and resent["duplicate"] is True
    assert in_a_batch["result"] == {"received": 2, "duplicates": 1, "applied": 1,
                                    "unknown_parcels": 0}
    events = erp_client.get(f"{API}/tracking-events", params={
        "tracking_number": number}).json()["items"]
    assert len(events) == 2


def test_delivered_never_regresses_and_delivers_the_order(
        erp_client, place_order, swiftpost, fake_swiftpost):
    order, shipment, number = handed_over(erp_client, place_order)
    push(erp_client, fake_swiftpost, scan(fake_swiftpost, number, "delivered", 4))
    after = push(erp_client, fake_swiftpost, scan(fake_swiftpost, number, "in_transit", 5))

    assert after["result"]["applied"] == 0
    assert package_of(erp_client, shipment["id"])["tracking_status"] == "delivered"
    shipment = erp_client.get(f"{API}/shipments/{shipment['id']}").json()
    assert shipment["state"] == "delivered" and shipment["delivered_at"]
    assert erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()["state"] == \
        "delivered"
    completed = erp_client.post(f"/api/v1/orders/orders/{order['id']}/complete")
    assert completed.status_code == 200 and completed.json()["state"] == "completed"


def test_a_forged_webhook_is_refused(erp_client, place_order, swiftpost, fake_swiftpost):
    _, _, number = handed_over(erp_client, place_order)
    body = fake_swiftpost.webhook_body([scan(fake_swiftpost, number, "delivered", 1)])
    headers = fake_swiftpost.signed_headers(body)
    forged = erp_client.post(HOOK, content=body.replace(b"delivered", b"exception"),
                             headers=headers)
    assert forged.status_code == 401


def test_the_carrier_pushes_over_http_to_the_running_server(
        erp_app, place_order, swiftpost, fake_swiftpost, erp_client):
    _, shipment, number = handed_over(erp_client, place_order)
    with serve(erp_app) as url:
        fake_swiftpost.webhook_url = f"{url}{HOOK}"
        fake_swiftpost.scan(number, "out_for_delivery")
    assert package_of(erp_client, shipment["id"])["tracking_status"] == "out_for_delivery"


def test_the_periodic_job_pulls_tracking_from_carriers_without_webhooks(
        kernel, erp_client, place_order, swiftpost, fake_swiftpost):
    from erp_logistics.tracking import pull_tracking

    erp_client.patch(f"{API}/carrier-accounts/{swiftpost['id']}", json={"pull_tracking": True},
                     headers={"If-Match": f'"{swiftpost["version"]}"'})
    _order, shipment, number = handed_over(erp_client, place_order)
    scan(fake_swiftpost, number, "picked_up", 1)
    scan(fake_swiftpost, number, "delivered", 3)

    summary = pull_tracking(kernel)
    again = pull_tracking(kernel)

    assert summary == "swiftpost: 2 applied of 3"  # label_created, picked up, delivered
    assert again == "swiftpost: 0 applied of 0"  # nothing left on its way
    assert erp_client.get(f"{API}/shipments/{shipment['id']}").json()["state"] == "delivered"
