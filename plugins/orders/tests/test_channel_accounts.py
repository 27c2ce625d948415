"""A channel is a driver account: its secrets are written through the API, never read."""

from __future__ import annotations

from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.security.accounts import create_token, create_user
from erp_orders.channel import Channel


def test_channel_secrets_are_stored_but_never_returned_by_the_api(kernel, warehouse):
    with kernel.transaction() as session:
        create_user(session, "owner", ["admin"])
        token = create_token(session, "owner")[1]
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app=create_app(kernel)) as client:
        created = client.post("/api/v1/orders/channels", headers=headers, json={
            "code": "shop", "name": "Shop", "kind": "own_site", "driver": "webstore",
            "warehouse_id": warehouse, "settings": {"base_url": "http://127.0.0.1:9"},
            "secrets": {"api_key": "s3cret-key", "webhook_secret": "s3cret-hook"}})
        assert created.status_code == 201, created.text
        channel_id = created.json()["id"]
        read = client.get(f"/api/v1/orders/channels/{channel_id}", headers=headers)
        listed = client.get("/api/v1/orders/channels", headers=headers)
        audit = client.get("/api/v1/kernel/audit?entity=orders.channel", headers=headers)
        events = client.get("/api/v1/kernel/events?entity=orders.channel", headers=headers)
        document = client.get("/schema/openapi.json").json()
    assert audit.json()["items"] and events.json()["items"]
    for body in (created.text, read.text, listed.text, audit.text, events.text):
        assert "s3cret" not in body
        assert "secrets" not in body
    assert read.json()["settings"] == {"base_url": "http://127.0.0.1:9"}
    schemas = document["components"]["schemas"]
    assert "secrets" not in schemas["OrdersChannel"]["properties"]
    assert "secrets" in schemas["OrdersChannelCreate"]["properties"]
    with kernel.transaction() as session:
        assert session.get(Channel, channel_id).secrets == {
            "api_key": "s3cret-key", "webhook_secret": "s3cret-hook"}
