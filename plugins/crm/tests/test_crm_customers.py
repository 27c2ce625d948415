"""Customers, their contacts and addresses through the generic API, with the CRM's rules."""

from __future__ import annotations

import pytest
from crm_helpers import CUSTOMERS, address, company, customer, get

pytestmark = pytest.mark.erp_plugins("crm")

ADDRESSES = "/api/v1/crm/addresses"
CONTACTS = "/api/v1/crm/contacts"


def test_a_customer_is_a_person_unless_said_to_be_a_company(erp_client):
    person = erp_client.post(CUSTOMERS, json={"name": "Ada Lovelace"}).json()
    firm = erp_client.post(CUSTOMERS, json={"name": "Babbage & Co", "kind": "company"}).json()
    assert (person["kind"], firm["kind"]) == ("person", "company")
    assert (person["flagged"], person["active"], person["tier"]) == (False, True, None)


def test_an_unknown_kind_is_refused(erp_client):
    response = erp_client.post(CUSTOMERS, json={"name": "X", "kind": "robot"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"kind": "must be one of person, company"}


def test_customers_are_filtered_by_kind_and_flag(erp_client, erp_kernel):
    customer(erp_kernel, "Ada")
    customer(erp_kernel, "Bob", flagged=True)
    company(erp_kernel, "Cogs Ltd")
    names = [c["name"] for c in erp_client.get(
        CUSTOMERS, params={"kind": "person", "flagged": "false"}).json()["items"]]
    assert names == ["Ada"]


def test_an_email_belongs_to_one_customer_whatever_its_case(erp_client, erp_kernel):
    first = customer(erp_kernel, email="ada@example.com")
    response = erp_client.post(CUSTOMERS, json={"name": "Ada L.", "email": "ADA@Example.com"})
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"customer {first['id']} already has the e-mail ADA@Example.com; merge the two"
        " customers if they are the same")


def test_changing_an_email_to_another_customers_is_refused(erp_client, erp_kernel):
    customer(erp_kernel, email="ada@example.com")
    other = customer(erp_kernel, "Bob", email="bob@example.com")
    response = erp_client.patch(f"{CUSTOMERS}/{other['id']}", json={"email": "Ada@example.com"})
    assert response.status_code == 409


def test_the_database_refuses_a_duplicate_email_whatever_the_write_path(erp_kernel):
    import sqlalchemy as sa

    from erp_crm.customers import Customer

    customer(erp_kernel, email="ada@example.com")
    with pytest.raises(sa.exc.IntegrityError), erp_kernel.transaction() as session:
        session.execute(sa.insert(Customer).values(name="Copy", email="ADA@EXAMPLE.COM"))


def test_many_customers_may_have_no_email(erp_kernel):
    assert customer(erp_kernel, "A")["email"] is None
    assert customer(erp_kernel, "B")["email"] is None


def test_a_malformed_email_is_refused(erp_client):
    response = erp_client.post(CUSTOMERS, json={"name": "X", "email": "not an email"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"email": "is not an e-mail address"}


def test_customers_are_never_deleted(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    assert erp_client.delete(f"{CUSTOMERS}/{ada['id']}").status_code == 405


def test_the_first_address_becomes_the_default_for_shipping_and_billing(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    created = erp_client.post(ADDRESSES, json={
        "customer_id": ada["id"], "line1": "1 Main St", "city": "Leeds", "country": "GB"})
    assert created.status_code == 201
    after = get(erp_kernel, "customer", ada["id"])
    assert after["default_shipping_address_id"] == after["default_billing_address_id"] \
        == created.json()["id"]


def test_later_addresses_leave_the_defaults_alone(erp_kernel):
    ada = customer(erp_kernel)
    home = address(erp_kernel, ada["id"])
    address(erp_kernel, ada["id"], city="York")
    assert get(erp_kernel, "customer", ada["id"])["default_shipping_address_id"] == home["id"]


def test_another_own_address_can_become_the_default_of_one_kind(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    home = address(erp_kernel, ada["id"])
    office = address(erp_kernel, ada["id"], city="York")
    response = erp_client.patch(f"{CUSTOMERS}/{ada['id']}",
                                json={"default_billing_address_id": office["id"]})
    assert response.status_code == 200
    assert (response.json()["default_shipping_address_id"],
            response.json()["default_billing_address_id"]) == (home["id"], office["id"])


def test_another_customers_address_cannot_be_a_default(erp_client, erp_kernel):
    ada, bob = customer(erp_kernel), customer(erp_kernel, "Bob")
    address(erp_kernel, ada["id"])
    bobs = address(erp_kernel, bob["id"])
    response = erp_client.patch(f"{CUSTOMERS}/{ada['id']}",
                                json={"default_shipping_address_id": bobs["id"]})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "default_shipping_address_id": "must be one of this customer's addresses"}


def test_a_customer_with_addresses_keeps_a_default(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    address(erp_kernel, ada["id"])
    response = erp_client.patch(f"{CUSTOMERS}/{ada['id']}",
                                json={"default_shipping_address_id": None})
    assert response.status_code == 422


def test_deleting_the_default_address_promotes_the_oldest_remaining_one(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    home = address(erp_kernel, ada["id"])
    office = address(erp_kernel, ada["id"], city="York")
    address(erp_kernel, ada["id"], city="Bath")
    assert erp_client.delete(f"{ADDRESSES}/{home['id']}").status_code == 204
    after = get(erp_kernel, "customer", ada["id"])
    assert after["default_shipping_address_id"] == after["default_billing_address_id"] \
        == office["id"]


def test_deleting_the_last_address_leaves_no_default(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    home = address(erp_kernel, ada["id"])
    erp_client.delete(f"{ADDRESSES}/{home['id']}")
    after = get(erp_kernel, "customer", ada["id"])
    assert (after["default_shipping_address_id"], after["default_billing_address_id"]) == (
        None, None)


def test_an_address_needs_an_iso_country_code(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    response = erp_client.post(ADDRESSES, json={
        "customer_id": ada["id"], "line1": "1 Main St", "city": "Leeds", "country": "uk"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"country": "must be two upper-case letters"}


def test_an_address_stays_with_its_customer(erp_client, erp_kernel):
    ada, bob = customer(erp_kernel), customer(erp_kernel, "Bob")
    home = address(erp_kernel, ada["id"])
    response = erp_client.patch(f"{ADDRESSES}/{home['id']}", json={"customer_id": bob["id"]})
    assert response.status_code == 422


def test_addresses_are_listed_per_customer(erp_client, erp_kernel):
    ada, bob = customer(erp_kernel), customer(erp_kernel, "Bob")
    address(erp_kernel, ada["id"])
    address(erp_kernel, bob["id"], city="York")
    cities = [a["city"] for a in erp_client.get(
        ADDRESSES, params={"customer_id": ada["id"]}).json()["items"]]
    assert cities == ["London"]


def test_contacts_are_people_at_a_company(erp_client, erp_kernel):
    firm = company(erp_kernel)
    response = erp_client.post(CONTACTS, json={"customer_id": firm["id"], "name": "Charles",
                                               "job_title": "Buyer"})
    assert response.status_code == 201
    listed = erp_client.get(CONTACTS, params={"customer_id": firm["id"]}).json()["items"]
    assert [(c["name"], c["job_title"]) for c in listed] == [("Charles", "Buyer")]


def test_a_person_has_no_contacts(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    response = erp_client.post(CONTACTS, json={"customer_id": ada["id"], "name": "Charles"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"customer_id": "must be a company"}
