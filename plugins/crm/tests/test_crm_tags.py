"""Tags on customers, and finding customers by tag."""

from __future__ import annotations

import pytest
from crm_helpers import CUSTOMERS, customer, tag

pytestmark = pytest.mark.erp_plugins("crm")

SEARCH = f"{CUSTOMERS}/search"


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_a_tag_is_put_on_a_customer_once(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    vip = erp_client.post("/api/v1/crm/tags", json={"name": "vip"}).json()
    link = {"customer_id": ada["id"], "tag_id": vip["id"]}
    assert erp_client.post("/api/v1/crm/customer-tags", json=link).status_code == 201
    assert erp_client.post("/api/v1/crm/customer-tags", json=link).status_code == 409


def test_customers_are_found_by_tag(erp_client, erp_kernel):
    ada, bob = customer(erp_kernel, "Ada"), customer(erp_kernel, "Bob")
    customer(erp_kernel, "Cleo")
    tag(erp_kernel, ada["id"], "vip")
    tag(erp_kernel, bob["id"], "vip")
    tag(erp_kernel, bob["id"], "wholesale")
    assert names(erp_client.get(SEARCH, params={"tag": "vip"})) == ["Ada", "Bob"]


def test_several_tags_must_all_be_there(erp_client, erp_kernel):
    ada, bob = customer(erp_kernel, "Ada"), customer(erp_kernel, "Bob")
    tag(erp_kernel, ada["id"], "vip")
    tag(erp_kernel, bob["id"], "vip")
    tag(erp_kernel, bob["id"], "wholesale")
    assert names(erp_client.get(SEARCH, params=[("tag", "vip"), ("tag", "wholesale")])) == ["Bob"]
    assert names(erp_client.get(SEARCH, params={"tag": "wholesale,vip"})) == ["Bob"]


def test_deleting_a_tag_untags_every_customer(erp_client, erp_kernel):
    ada = customer(erp_kernel)
    tag(erp_kernel, ada["id"], "vip")
    vip = erp_client.get("/api/v1/crm/tags", params={"name": "vip"}).json()["items"][0]
    assert erp_client.delete(f"/api/v1/crm/tags/{vip['id']}").status_code == 204
    assert erp_client.get("/api/v1/crm/customer-tags",
                          params={"customer_id": ada["id"]}).json()["items"] == []


def test_search_rejects_unknown_parameters(erp_client):
    response = erp_client.get(SEARCH, params={"colour": "red"})
    assert response.status_code == 422
    assert "colour" in response.json()["errors"]


def test_search_pages_by_customer_id(erp_client, erp_kernel):
    for name in ("A", "B", "C"):
        tag(erp_kernel, customer(erp_kernel, name)["id"], "vip")
    first = erp_client.get(SEARCH, params={"tag": "vip", "limit": 2}).json()
    second = erp_client.get(SEARCH, params={"tag": "vip", "limit": 2,
                                            "cursor": first["next_cursor"]}).json()
    assert [c["name"] for c in first["items"]] == ["A", "B"]
    assert ([c["name"] for c in second["items"]], second["next_cursor"]) == (["C"], None)
