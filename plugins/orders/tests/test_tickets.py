"""After-sales tickets (AFS-1): tied to an order, worked through a status, closed with a
satisfaction score, and logged as CRM interactions on the order's customer."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from after_sales_helpers import client_for, outbox_events, shipped_order

from erp_core.api import create_app
from erp_crm.services import timeline
from erp_orders.tickets import post_message
from erp_sdk import ConflictError, Principal, ValidationError

TICKETS = "/api/v1/orders/tickets"


def open_ticket(kernel, order_id, reason="damaged", subject="The mug arrived broken",
                principal=None):
    with kernel.context(principal) as ctx:
        return ctx.records("orders.ticket").create(
            {"order_id": order_id, "reason": reason, "subject": subject})


def fire(kernel, ticket_id, transition, data=None):
    with kernel.context() as ctx:
        return ctx.fire("orders.ticket", ticket_id, transition, data)


def crm_timeline(kernel, customer_id):
    with kernel.context() as ctx:
        return timeline(ctx, customer_id)["items"]


@pytest.fixture
def order(kernel, shop):
    order_id, _lines = shipped_order(kernel, shop, ("mug", "1"))
    return order_id


@pytest.fixture
def clients(kernel):
    app = create_app(kernel)
    with ExitStack() as stack:
        yield lambda *roles, name: client_for(kernel, app, stack, *roles, name=name)


def test_opening_a_ticket_logs_a_ticket_interaction_on_the_orders_customer(kernel, shop, order):
    ticket = open_ticket(kernel, order, principal=Principal.system("sam"))
    assert (ticket["state"], ticket["satisfaction"]) == ("open", None)
    [logged] = crm_timeline(kernel, shop["customer"])
    assert (logged["kind"], logged["author"], logged["outcome"]) == ("ticket", "sam", "opened")
    assert f"Ticket {ticket['id']} on order SO-{order:06d} (damaged)" in logged["summary"]
    assert "The mug arrived broken" in logged["summary"]


def test_the_reason_is_one_of_the_known_reasons(kernel, order):
    with pytest.raises(ValidationError, match="reason"):
        open_ticket(kernel, order, reason="bored")


def test_messages_are_written_in_the_authors_name_and_logged_in_crm(kernel, shop, order):
    ticket = open_ticket(kernel, order)
    with kernel.context(Principal.system("sam")) as ctx:
        message = post_message(ctx, ticket["id"], "We are sending a new one.")
    assert (message["author"], message["from_customer"]) == ("sam", False)
    newest = crm_timeline(kernel, shop["customer"])[0]
    assert (newest["kind"], newest["author"], newest["outcome"]) == ("ticket", "sam", "answered")
    assert "We are sending a new one." in newest["summary"]


def test_a_ticket_goes_open_waiting_resolved_closed_with_a_satisfaction_score(kernel, order):
    ticket = open_ticket(kernel, order)
    assert fire(kernel, ticket["id"], "wait")["state"] == "waiting"
    assert fire(kernel, ticket["id"], "resume")["state"] == "open"
    assert fire(kernel, ticket["id"], "resolve")["state"] == "resolved"
    closed = fire(kernel, ticket["id"], "close", {"satisfaction": 4})
    assert (closed["state"], closed["satisfaction"]) == ("closed", 4)
    [event] = outbox_events(kernel, "orders.ticket.closed")
    assert event["data"] == {"satisfaction": 4}


def test_closing_without_a_score_leaves_it_empty(kernel, order):
    ticket = open_ticket(kernel, order)
    fire(kernel, ticket["id"], "resolve")
    assert fire(kernel, ticket["id"], "close")["satisfaction"] is None


@pytest.mark.parametrize("score", [0, 6, "5", 4.5, True])
def test_the_satisfaction_score_is_a_whole_number_from_1_to_5(kernel, order, score):
    ticket = open_ticket(kernel, order)
    fire(kernel, ticket["id"], "resolve")
    with pytest.raises(ValidationError, match="from 1 to 5"):
        fire(kernel, ticket["id"], "close", {"satisfaction": score})


def test_a_satisfaction_score_is_given_only_when_closing(kernel, order):
    ticket = open_ticket(kernel, order)
    with pytest.raises(ValidationError, match="only when closing"):
        fire(kernel, ticket["id"], "resolve", {"satisfaction": 5})


def test_reopening_clears_the_satisfaction_score(kernel, order):
    ticket = open_ticket(kernel, order)
    fire(kernel, ticket["id"], "resolve")
    fire(kernel, ticket["id"], "close", {"satisfaction": 2})
    reopened = fire(kernel, ticket["id"], "reopen")
    assert (reopened["state"], reopened["satisfaction"]) == ("open", None)


def test_a_customers_message_takes_a_waiting_ticket_back_to_open(kernel, order):
    ticket = open_ticket(kernel, order)
    fire(kernel, ticket["id"], "wait")
    with kernel.context() as ctx:
        post_message(ctx, ticket["id"], "Here is the photo.", from_customer=True)
        assert ctx.records("orders.ticket").get(ticket["id"])["state"] == "open"


def test_a_closed_ticket_takes_no_message(kernel, order):
    ticket = open_ticket(kernel, order)
    fire(kernel, ticket["id"], "resolve")
    fire(kernel, ticket["id"], "close")
    with pytest.raises(ConflictError, match="reopen it"), kernel.context() as ctx:
        post_message(ctx, ticket["id"], "Still broken.")


def test_a_ticket_stays_with_its_order(kernel, shop, order):
    other, _ = shipped_order(kernel, shop, ("tea", "1"))
    ticket = open_ticket(kernel, order)
    with pytest.raises(ValidationError, match="stays with its order"), kernel.context() as ctx:
        ctx.records("orders.ticket").update(ticket["id"], {"order_id": other})


def test_a_client_works_a_ticket_through_the_api(kernel, shop, order, clients):
    clerk = clients("orders.clerk", name="clara")
    response = clerk.post(TICKETS, json={"order_id": order, "reason": "late",
                                         "subject": "Where is my parcel?"})
    assert response.status_code == 422  # "late" is not a reason
    response = clerk.post(TICKETS, json={"order_id": order, "reason": "delivery",
                                         "subject": "Where is my parcel?"})
    assert response.status_code == 201, response.text
    ticket = response.json()
    message = clerk.post(f"{TICKETS}/{ticket['id']}/messages",
                         json={"body": "It left the warehouse yesterday."})
    assert message.status_code == 201, message.text
    assert message.json()["author"] == "clara"
    assert clerk.post(f"{TICKETS}/{ticket['id']}/wait").json()["state"] == "waiting"
    clerk.post(f"{TICKETS}/{ticket['id']}/messages",
               json={"body": "Got it, thanks!", "from_customer": True})
    assert clerk.post(f"{TICKETS}/{ticket['id']}/resolve").json()["state"] == "resolved"
    assert clerk.post(f"{TICKETS}/{ticket['id']}/close",
                      json={"satisfaction": 9}).status_code == 422
    closed = clerk.post(f"{TICKETS}/{ticket['id']}/close", json={"satisfaction": 5})
    assert closed.json()["satisfaction"] == 5, closed.text
    messages = clerk.get("/api/v1/orders/ticket-messages",
                         params={"ticket_id": ticket["id"]}).json()["items"]
    assert [(m["author"], m["from_customer"]) for m in messages] == [
        ("clara", False), ("clara", True)]
    history = clerk.get(f"{TICKETS}/{ticket['id']}/history").json()["items"]
    assert [e["action"] for e in history] == [
        "created", "wait", "resume", "resolve", "close"]
    assert [i["outcome"] for i in crm_timeline(kernel, shop["customer"])] == [
        "customer message", "answered", "opened"]


def test_the_satisfaction_is_not_written_directly(kernel, order, clients):
    clerk = clients("orders.clerk", name="clara")
    ticket = open_ticket(kernel, order)
    response = clerk.patch(f"{TICKETS}/{ticket['id']}", json={"satisfaction": 5})
    assert response.status_code == 422
    assert response.json()["errors"] == {"satisfaction": "is read-only"}


def test_messages_are_not_created_through_the_generic_route(kernel, order, clients):
    ticket = open_ticket(kernel, order)
    response = clients("orders.manager", name="max").post(
        "/api/v1/orders/ticket-messages",
        json={"ticket_id": ticket["id"], "author": "forged", "body": "x"})
    assert response.status_code == 405


def test_a_role_without_ticket_permissions_gets_403(kernel, order, clients):
    reviewer = clients("orders.reviewer", name="rita")
    ticket = open_ticket(kernel, order)
    assert reviewer.post(TICKETS, json={"order_id": order, "reason": "other",
                                        "subject": "?"}).status_code == 403
    assert reviewer.post(f"{TICKETS}/{ticket['id']}/messages",
                         json={"body": "hello"}).status_code == 403
    assert reviewer.post(f"{TICKETS}/{ticket['id']}/resolve").status_code == 403
    assert reviewer.get(f"{TICKETS}/{ticket['id']}").status_code == 403
