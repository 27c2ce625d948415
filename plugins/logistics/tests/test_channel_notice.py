"""The tracking number and the carrier go back to the sales channel, through its
``SalesChannel`` driver, when a shipment of a channel order is handed over."""

from __future__ import annotations

import pytest
from test_shipments import label_and_hand_over, make_shipment

from erp_orders.channels_import import import_orders

fakeshop = pytest.importorskip("erp_channel_webstore.fakeshop",
                               reason="needs the example sales channel erp-channel-webstore")


@pytest.fixture
def fake_shop():
    with fakeshop.FakeShop() as running:
        yield running


def test_handing_over_tells_the_shop_the_carrier_and_tracking_number(
        kernel, erp_client, shop, fake_shop, swiftpost):
    with kernel.context() as ctx:
        ctx.records("orders.channel").update(shop["channel"], {
            "driver": "webstore", "secrets": fake_shop.channel_secrets(),
            "settings": fake_shop.channel_settings()})
    fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])
    import_orders(kernel, "web")
    [order] = erp_client.get("/api/v1/orders/orders",
                             params={"external_reference": "WS-1"}).json()["items"]
    assert erp_client.post(f"/api/v1/orders/orders/{order['id']}/confirm").status_code == 200

    shipment = make_shipment(erp_client, order["id"])
    label_and_hand_over(erp_client, shipment["id"])

    package = erp_client.get("/api/v1/logistics/packages",
                             params={"shipment_id": shipment["id"]}).json()["items"][0]
    assert [(s["order_id"], s["carrier"], s["tracking_number"]) for s in fake_shop.shipments] \
        == [("WS-1", "swiftpost", package["tracking_number"])]
