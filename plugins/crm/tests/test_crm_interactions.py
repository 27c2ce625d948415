"""Interactions: logged on a customer by its author, listed as a timeline newest first."""

from __future__ import annotations

import pytest
from crm_helpers import CUSTOMERS, bearer, customer
from litestar.testing import TestClient

pytestmark = pytest.mark.erp_plugins("crm")

INTERACTIONS = "/api/v1/crm/interactions"


def log(client, customer_id: int, **fields):
    body = {"kind": "call", "summary": "Asked about delivery", **fields}
    return client.post(f"{CUSTOMERS}/{customer_id}/interactions", json=body)


def timeline(client, customer_id: int, **params):
    response = client.get(f"{CUSTOMERS}/{customer_id}/timeline", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_interaction_is_logged_in_the_callers_name(erp_app, erp_kernel, erp_token):
    ada = customer(erp_kernel)
    with TestClient(app=erp_app) as client:
        client.headers.update(bearer(erp_token("crm.agent", name="maria")))
        response = log(client, ada["id"], channel="phone", outcome="answered")
    assert response.status_code == 201, response.text
    logged = response.json()
    assert (logged["author"], logged["customer_id"], logged["kind"], logged["channel"],
            logged["outcome"]) == ("maria", ada["id"], "call", "phone", "answered")


def test_nobody_logs_in_someone_elses_name(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    response = log(erp_client, ada["id"], author="somebody else")
    assert response.status_code == 422
    assert response.json()["errors"] == {"author": "unknown field"}


def test_the_kind_is_one_of_call_message_ticket_note(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    response = log(erp_client, ada["id"], kind="fax")
    assert response.status_code == 422
    assert response.json()["errors"] == {"kind": "must be one of call, message, ticket, note"}


def test_interactions_are_not_created_through_the_generic_route(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    response = erp_client.post(INTERACTIONS, json={
        "customer_id": ada["id"], "kind": "note", "summary": "x", "author": "forged"})
    assert response.status_code == 405


def test_the_author_does_not_change(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    logged = log(erp_client, ada["id"]).json()
    response = erp_client.patch(f"{INTERACTIONS}/{logged['id']}", json={"author": "forged"})
    assert response.status_code == 422
    fixed = erp_client.patch(f"{INTERACTIONS}/{logged['id']}", json={"outcome": "call back"})
    assert fixed.json()["outcome"] == "call back"


def test_the_timeline_lists_a_customers_interactions_newest_first(erp_client, erp_kernel):
    ada, bob = customer(erp_kernel), customer(erp_kernel, "Bob")
    for day, kind in ((3, "call"), (1, "ticket"), (2, "message"), (4, "note")):
        log(erp_client, ada["id"], kind=kind, occurred_at=f"2026-05-0{day}T10:00:00Z")
    log(erp_client, bob["id"])
    items = timeline(erp_client, ada["id"])["items"]
    assert [(i["kind"], i["occurred_at"][:10]) for i in items] == [
        ("note", "2026-05-04"), ("call", "2026-05-03"), ("message", "2026-05-02"),
        ("ticket", "2026-05-01")]


def test_the_timeline_pages_with_a_cursor_even_within_one_instant(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    ids = [log(erp_client, ada["id"], summary=str(n), occurred_at="2026-05-01T10:00:00Z")
           .json()["id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        page = timeline(erp_client, ada["id"], limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)


def test_a_malformed_cursor_is_a_clear_422(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    response = erp_client.get(f"{CUSTOMERS}/{ada['id']}/timeline", params={"cursor": "zzz"})
    assert response.status_code == 422


def test_the_timeline_of_an_unknown_customer_is_404(erp_client):
    assert erp_client.get(f"{CUSTOMERS}/999/timeline").status_code == 404


def test_interactions_are_filtered_by_kind(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    log(erp_client, ada["id"], kind="ticket")
    log(erp_client, ada["id"], kind="note")
    kinds = [i["kind"] for i in erp_client.get(
        INTERACTIONS, params={"customer_id": ada["id"], "kind": "ticket"}).json()["items"]]
    assert kinds == ["ticket"]
