"""Carrier accounts, rate shopping by rules and labels bought exactly once (LOG-5),
through the API."""

from __future__ import annotations

import json
import threading
import time

import httpx
import sqlalchemy as sa
from test_shipments import API, label_and_hand_over, make_shipment

from erp_sdk.testing import serve


def rate(client, shipment_id):
    response = client.post(f"{API}/shipments/{shipment_id}/rates")
    assert response.status_code == 200, response.text
    return response.json()


def test_secrets_are_never_returned_audited_or_put_in_events(erp_client, kernel, swiftpost,
                                                              fake_swiftpost):
    assert "secrets" not in swiftpost
    listed = erp_client.get(f"{API}/carrier-accounts").json()["items"]
    assert all("secrets" not in account for account in listed)
    erp_client.patch(f"{API}/carrier-accounts/{swiftpost['id']}",
                     json={"secrets": {"api_key": "rotated-key", "webhook_secret": "x"}},
                     headers={"If-Match": f'"{swiftpost["version"]}"'})
    with kernel.transaction() as session:
        written = " ".join(
            json.dumps(row, default=str) for table in ("kernel_audit_entry", "kernel_outbox_event")
            for row in session.execute(sa.text(f"SELECT * FROM {table}")).mappings())
    assert "sp-test-key" not in written and "rotated-key" not in written
    assert "sp-hook-secret" not in written


def test_the_cheapest_rate_wins_and_every_rate_is_kept(erp_client, place_order, tablerate,
                                                       swiftpost):
    shipment = make_shipment(erp_client, place_order()["id"],
                             packages=[{"weight_kg": "2"}])
    rated = rate(erp_client, shipment["id"])
    decision = rated["rate_decision"]
    assert {(r["account"], r["service"]) for r in decision["rates"]} == {
        ("tablerate", "standard"), ("tablerate", "express"),
        ("swiftpost", "standard"), ("swiftpost", "express")}
    assert decision["chosen"] == {**min(decision["rates"], key=lambda r: float(r["amount"]))}
    assert (rated["carrier_account_id"], rated["service"]) == (swiftpost["id"], "standard")
    assert rated["quoted_amount"] == "7.1000"  # SwiftPost: 4.90 + 2 x 1.10
    assert decision["reason"] == "no rule decided: the cheapest eligible rate"


def test_rules_prefer_exclude_cap_and_go_fastest(erp_client, place_order, tablerate,
                                                 swiftpost):
    rules = f"{API}/carrier-rules"
    erp_client.post(rules, json={"name": "Lyon goes by table rate", "sequence": 10,
                                 "action": "prefer", "country": "FR",
                                 "carrier_account_id": tablerate["id"]})
    shipment = make_shipment(erp_client, place_order()["id"], packages=[{"weight_kg": "2"}])
    rated = rate(erp_client, shipment["id"])
    assert rated["carrier_account_id"] == tablerate["id"]
    assert rated["rate_decision"]["rule"] == "Lyon goes by table rate"

    erp_client.post(rules, json={"name": "no table rate", "action": "exclude",
                                 "carrier_account_id": tablerate["id"]})
    erp_client.post(rules, json={"name": "express first", "sequence": 20, "action": "fastest"})
    erp_client.post(rules, json={"name": "at most 13.50", "action": "cheapest", "sequence": 30,
                                 "max_price": "13.50"})
    rated = rate(erp_client, shipment["id"])
    decision = rated["rate_decision"]
    assert (rated["carrier_account_id"], rated["service"]) == (swiftpost["id"], "express")
    assert decision["rule"] == "express first"
    refused = {(r["account"], r["service"]): r["refused_by"] for r in decision["refused"]}
    assert refused[("tablerate", "standard")] == "no table rate"

    erp_client.post(rules, json={"name": "at most 12", "action": "exclude", "max_price": "12"})
    capped = rate(erp_client, shipment["id"])  # express costs 13.10 now refused
    assert (capped["carrier_account_id"], capped["service"]) == (swiftpost["id"], "standard")
    refused = {(r["account"], r["service"]): r["refused_by"]
               for r in capped["rate_decision"]["refused"]}
    assert refused[("swiftpost", "express")] == "at most 12 (max price 12.0000)"


def test_a_hanging_carrier_is_skipped_after_its_timeout_and_reported(
        erp_client, place_order, tablerate, swiftpost, fake_swiftpost):
    fake_swiftpost.rate_delay = 5
    erp_client.patch(f"{API}/carrier-accounts/{swiftpost['id']}",
                     json={"rate_timeout_ms": 300},
                     headers={"If-Match": f'"{swiftpost["version"]}"'})
    shipment = make_shipment(erp_client, place_order()["id"])

    started = time.monotonic()
    rated = rate(erp_client, shipment["id"])
    elapsed = time.monotonic() - started

    assert elapsed < 3, f"rate shopping waited {elapsed:.1f} s for a carrier given 0.3 s"
    [skipped] = rated["rate_decision"]["skipped"]
    assert skipped["account"] == "swiftpost" and "300 ms" in skipped["reason"]
    assert rated["carrier_account_id"] == tablerate["id"]


def test_a_double_click_buys_one_label(erp_app, erp_token, place_order, swiftpost,
                                       fake_swiftpost, erp_client):
    fake_swiftpost.purchase_delay = 0.5
    shipment = make_shipment(erp_client, place_order()["id"])
    rate(erp_client, shipment["id"])
    token = erp_token("admin")
    answers: list[httpx.Response] = []
    with serve(erp_app) as url:
        def click() -> None:
            answers.append(httpx.post(f"{url}{API}/shipments/{shipment['id']}/labels",
                                      headers={"Authorization": f"Bearer {token}"},
                                      timeout=30))

        clicks = [threading.Thread(target=click) for _ in range(4)]
        for thread in clicks:
            thread.start()
        for thread in clicks:
            thread.join()
    assert fake_swiftpost.purchases == 1
    assert sorted(a.status_code for a in answers)[0] == 200
    assert {a.status_code for a in answers} <= {200, 409}
    retried = erp_client.post(f"{API}/shipments/{shipment['id']}/labels")
    assert retried.status_code == 200 and retried.json()["state"] == "labelled"
    assert fake_swiftpost.purchases == 1


def test_a_timed_out_purchase_is_resolved_by_asking_the_carrier(
        erp_client, place_order, swiftpost, fake_swiftpost):
    shipment = make_shipment(erp_client, place_order()["id"])
    rate(erp_client, shipment["id"])
    fake_swiftpost.purchase_fault = "timeout"
    fake_swiftpost.fault_delay = 2  # the account's driver waits 1 s

    lost = erp_client.post(f"{API}/shipments/{shipment['id']}/labels").json()
    [package] = lost["packages"]
    assert lost["state"] == "draft" and package["label_state"] == "unknown"
    assert package["idempotency_key"]

    fake_swiftpost.purchase_fault = None
    resolved = erp_client.post(f"{API}/shipments/{shipment['id']}/labels").json()
    [package] = resolved["packages"]
    assert resolved["state"] == "labelled" and package["label_state"] == "labelled"
    assert package["tracking_number"] in fake_swiftpost.labels
    assert fake_swiftpost.purchases == 1


def test_a_server_error_leaves_the_label_unknown_until_resolved(
        erp_client, place_order, swiftpost, fake_swiftpost):
    shipment = make_shipment(erp_client, place_order()["id"])
    rate(erp_client, shipment["id"])
    fake_swiftpost.purchase_fault = "server_error"
    lost = erp_client.post(f"{API}/shipments/{shipment['id']}/labels").json()
    assert lost["packages"][0]["label_state"] == "unknown"
    resolved = erp_client.post(f"{API}/shipments/{shipment['id']}/labels").json()
    assert resolved["packages"][0]["label_state"] == "labelled"
    assert fake_swiftpost.purchases == 1


def test_voiding_returns_the_packages_to_be_labelled_and_a_new_key_buys_again(
        erp_client, place_order, swiftpost, fake_swiftpost):
    shipment = make_shipment(erp_client, place_order()["id"])
    rate(erp_client, shipment["id"])
    first = erp_client.post(f"{API}/shipments/{shipment['id']}/labels").json()
    old = first["packages"][0]

    voided = erp_client.post(f"{API}/shipments/{shipment['id']}/labels/void")
    assert voided.status_code == 200, voided.text
    assert voided.json()["state"] == "draft"
    assert voided.json()["packages"][0]["label_state"] == "to_label"
    assert fake_swiftpost.labels[old["tracking_number"]]["status"] == "voided"

    again = erp_client.post(f"{API}/shipments/{shipment['id']}/labels").json()
    new = again["packages"][0]
    assert new["idempotency_key"] != old["idempotency_key"]
    assert new["tracking_number"] != old["tracking_number"]
    assert fake_swiftpost.purchases == 2


def test_a_handed_over_shipment_keeps_its_labels(erp_client, place_order, tablerate):
    shipment = make_shipment(erp_client, place_order()["id"])
    label_and_hand_over(erp_client, shipment["id"])
    refused = erp_client.post(f"{API}/shipments/{shipment['id']}/labels/void")
    assert refused.status_code == 409
