"""Orders from sales channels (ORD-7), with the real ``webstore`` driver and its local shop.

The driver is loaded by name through the kernel, as a seller's configuration would; the
fake shop is a real HTTP server on 127.0.0.1 that serves orders, takes stock levels and
shipments, and delivers signed webhooks to the ERP's real HTTP server.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from erp_core.cli import main
from erp_crm.customers import Customer
from erp_inventory.ledger import StockLevel
from erp_orders.channel import Channel
from erp_orders.channels_import import import_orders, push_stock
from erp_sdk import ValidationError
from erp_sdk.testing import serve

fakeshop = pytest.importorskip(
    "erp_channel_webstore.fakeshop",
    reason="the example sales channel driver erp-channel-webstore is not installed"
           " (pip install -e examples/channel-webstore); these tests need its local shop")
FakeShop = fakeshop.FakeShop

GRACE = {"id": "C-7", "name": "Grace Hopper", "email": "grace@example.com"}
BOB = {"id": "C-8", "name": "Bob Builder", "email": "bob@example.com"}


@pytest.fixture
def fake_shop() -> Iterator[FakeShop]:
    with FakeShop() as running:
        yield running
    assert running.server_errors == [], "the fake shop failed while answering"


@pytest.fixture
def connect(kernel, shop, fake_shop) -> Callable[..., None]:
    """``connect(**settings)``: make the ``web`` channel of ``shop`` talk to the fake
    shop through the ``webstore`` driver, with these settings (and channel options)."""

    def configure(**settings: Any) -> None:
        with kernel.context() as ctx:
            ctx.records("orders.channel").update(shop["channel"], {
                "driver": "webstore", "secrets": fake_shop.channel_secrets(),
                "settings": fake_shop.channel_settings(**{"page_size": 2, **settings})})

    configure()
    return configure


@pytest.fixture
def api_url(kernel) -> Iterator[str]:
    """The ERP's HTTP API served for real (uvicorn on a free local port)."""
    from erp_core.api.app import create_app

    with serve(create_app(kernel)) as url:
        yield url


def channel_orders(kernel, shop) -> list[dict[str, Any]]:
    with kernel.context() as ctx:
        return ctx.records("orders.order").list(
            [("channel_id", str(shop["channel"])), ("limit", "100")])["items"]


def order_by_reference(kernel, shop, reference: str) -> dict[str, Any]:
    [order] = [o for o in channel_orders(kernel, shop) if o["external_reference"] == reference]
    return order


def customer_count(kernel) -> int:
    with kernel.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Customer))


def stored_cursor(kernel, shop) -> str | None:
    with kernel.transaction() as session:
        return session.scalar(sa.select(Channel.import_cursor).where(
            Channel.id == shop["channel"]))


def fire(kernel, order_id, transition, data=None):
    with kernel.context() as ctx:
        return ctx.fire("orders.order", order_id, transition, data)


def available(kernel, product, warehouse) -> Decimal:
    with kernel.transaction() as session:
        return session.scalar(sa.select(StockLevel.available).where(
            StockLevel.product_id == product, StockLevel.warehouse_id == warehouse))


def test_importing_creates_orders_at_the_channels_prices_and_a_new_customer_with_address(
        kernel, shop, connect, fake_shop):
    document = fake_shop.add_order(
        "WS-1", customer=GRACE, lines=[("TEA-1", 2, "3.99", "0.50", "0.20"),
                                       ("MUG-1", 1, "12.00")],
        shipping_amount="4.90", notes="Leave at the door")
    before = customer_count(kernel)

    result = import_orders(kernel, "web")

    assert (len(result.created), result.existing, result.failed, result.ok) == (1, 0, (), True)
    order = order_by_reference(kernel, shop, "WS-1")
    assert order["state"] == "draft"
    # 2 x 3.99 - 0.50 = 7.48, tax 1.50; 12.00 untaxed; plus 4.90 shipping
    assert (order["subtotal"], order["tax_total"], order["total"]) == (
        "19.4800", "1.5000", "25.8800")
    assert (order["ship_name"], order["ship_city"], order["ship_country"]) == (
        "Ada Lovelace", "London", "GB")
    assert order["placed_at"].replace("+00:00", "Z") == document["placed_at"]
    assert order["notes"] == "Leave at the door"
    assert customer_count(kernel) == before + 1
    with kernel.context() as ctx:
        customer = ctx.records("crm.customer").get(order["customer_id"])
        address = ctx.records("crm.address").get(customer["default_shipping_address_id"])
        lines = ctx.records("orders.order_line").list([("order_id", str(order["id"]))])["items"]
    assert (customer["name"], customer["email"]) == ("Grace Hopper", "grace@example.com")
    assert (address["line1"], address["city"], address["country"]) == (
        "12 Analytical Row", "London", "GB")
    assert sorted((line["sku"], line["unit_price"]) for line in lines) == [
        ("MUG-1", "12.0000"), ("TEA-1", "3.9900")]


def test_importing_twice_gives_one_order_and_one_customer(kernel, shop, connect, fake_shop):
    fake_shop.add_order("WS-1", customer=GRACE, lines=[("TEA-1", 1, "4.20")])
    assert len(import_orders(kernel, "web").created) == 1
    customers = customer_count(kernel)
    with kernel.transaction() as session:  # as if the cursor had been lost: start over
        session.execute(sa.update(Channel).values(import_cursor=None))

    again = import_orders(kernel, "web")

    assert (again.created, again.existing, again.ok) == ((), 1, True)
    assert [o["external_reference"] for o in channel_orders(kernel, shop)] == ["WS-1"]
    assert customer_count(kernel) == customers


def test_the_import_resumes_from_the_cursor_of_the_last_committed_page(
        kernel, shop, connect, fake_shop):
    for number in range(1, 4):
        fake_shop.add_order(f"WS-{number}", lines=[("TEA-1", 1, "4.20")])
    first = import_orders(kernel, "web")
    assert (len(first.created), first.cursor) == (3, "o3")
    assert stored_cursor(kernel, shop) == "o3"
    fake_shop.add_order("WS-4", lines=[("MUG-1", 1, "12.50")])
    asked_before = len(fake_shop.requests)

    second = import_orders(kernel, "web")

    assert (len(second.created), second.existing, second.cursor) == (1, 0, "o4")
    assert fake_shop.requests[asked_before].query["after"] == "o3"
    assert len(channel_orders(kernel, shop)) == 4


def test_a_channel_failing_mid_import_keeps_what_was_committed_and_the_next_run_goes_on(
        kernel, shop, connect, fake_shop):
    for number in range(1, 5):
        fake_shop.add_order(f"WS-{number}", lines=[("TEA-1", 1, "4.20")])
    assert len(import_orders(kernel, "web", max_pages=1).created) == 2
    fake_shop.fail_next(503)

    failed = import_orders(kernel, "web")

    assert not failed.ok and "503" in failed.error
    assert stored_cursor(kernel, shop) == "o2"
    retried = import_orders(kernel, "web")
    assert (len(retried.created), retried.existing, retried.ok) == (2, 0, True)
    assert len(channel_orders(kernel, shop)) == 4


def test_an_unknown_sku_fails_only_its_order_writes_nothing_of_it_and_holds_the_cursor(
        kernel, shop, connect, fake_shop, make_product):
    fake_shop.add_order("WS-1", customer=GRACE, lines=[("TEA-1", 1, "4.20")])
    fake_shop.add_order("WS-2", customer=BOB, lines=[("MUG-1", 1, "12.50"),
                                                     ("NOPE-1", 2, "1.00")])
    fake_shop.add_order("WS-3", customer=GRACE, lines=[("MUG-1", 1, "12.50")])
    customers = customer_count(kernel)

    result = import_orders(kernel, "web")

    assert not result.ok
    assert len(result.created) == 2
    [failure] = result.failed
    assert (failure.external_reference, failure.field) == ("WS-2", "lines[1].sku")
    assert "unknown SKU 'NOPE-1'" in failure.reason
    assert sorted(o["external_reference"] for o in channel_orders(kernel, shop)) == [
        "WS-1", "WS-3"]
    assert customer_count(kernel) == customers + 1  # Grace only; Bob's order left nothing
    assert stored_cursor(kernel, shop) is None  # the page of WS-2 is pulled again

    make_product("NOPE-1", price="1.00")
    retried = import_orders(kernel, "web")
    assert (len(retried.created), retried.existing, retried.ok) == (1, 2, True)
    assert stored_cursor(kernel, shop) == "o3"


def test_skip_failed_orders_moves_the_cursor_past_a_bad_order(kernel, shop, connect,
                                                               fake_shop):
    connect(skip_failed_orders=True)
    fake_shop.add_order("WS-1", lines=[("NOPE-1", 1, "1.00")])
    fake_shop.add_order("WS-2", lines=[("TEA-1", 1, "4.20")])

    result = import_orders(kernel, "web")

    assert (len(result.created), len(result.failed), result.ok) == (1, 1, False)
    assert stored_cursor(kernel, shop) == "o2"


def test_a_returning_channel_customer_is_found_by_id_and_a_known_email_by_email(
        kernel, shop, connect, fake_shop):
    with kernel.context() as ctx:
        grace = ctx.records("crm.customer").create(
            {"name": "Grace H.", "email": "Grace@Example.com"})["id"]
    fake_shop.add_order("WS-1", customer=GRACE, lines=[("TEA-1", 1, "4.20")])
    fake_shop.add_order("WS-2", customer={**GRACE, "email": "grace@navy.example"},
                        lines=[("TEA-1", 1, "4.20")])
    fake_shop.add_order("WS-3", customer=BOB, lines=[("TEA-1", 1, "4.20")])
    customers = customer_count(kernel)

    import_orders(kernel, "web")

    assert order_by_reference(kernel, shop, "WS-1")["customer_id"] == grace
    assert order_by_reference(kernel, shop, "WS-2")["customer_id"] == grace
    assert order_by_reference(kernel, shop, "WS-3")["customer_id"] != grace
    assert customer_count(kernel) == customers + 1


def test_concurrent_imports_of_one_channel_give_one_order_per_reference(
        kernel, shop, connect, fake_shop, caplog):
    for number in range(1, 9):
        fake_shop.add_order(f"WS-{number}", customer=GRACE if number % 2 else BOB,
                            lines=[("TEA-1", 1, "4.20")])
    barrier = threading.Barrier(4)

    def run(_: int):
        barrier.wait()
        return import_orders(kernel, "web")

    with caplog.at_level(logging.WARNING, logger="erp.kernel"), \
            ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(4)))

    # Kernel.run would hide a deadlock by running the work again: none may happen
    assert [r.message for r in caplog.records if "running the work again" in r.message] == []
    assert all(result.failed == () and result.error is None for result in results)
    assert sum(len(result.created) for result in results) == 8
    references = [o["external_reference"] for o in channel_orders(kernel, shop)]
    assert sorted(references) == sorted(f"WS-{n}" for n in range(1, 9))
    with kernel.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Customer).where(
            Customer.email.in_([GRACE["email"], BOB["email"]]))) == 2
    assert stored_cursor(kernel, shop) == "o8"


def test_auto_confirm_reserves_stock_and_a_shortfall_leaves_the_order_in_draft(
        kernel, shop, connect, fake_shop):
    connect(auto_confirm=True)
    fake_shop.add_order("WS-1", lines=[("TEA-1", 3, "4.20")])
    fake_shop.add_order("WS-2", lines=[("MUG-1", 11, "12.50")])

    result = import_orders(kernel, "web")

    assert len(result.created) == 2 and result.ok
    assert order_by_reference(kernel, shop, "WS-1")["state"] == "confirmed"
    assert available(kernel, shop["tea"], shop["warehouse"]) == Decimal(7)
    assert order_by_reference(kernel, shop, "WS-2")["state"] == "draft"
    [unconfirmed] = result.unconfirmed
    assert unconfirmed.external_reference == "WS-2" and "MUG-1 short by 1" in unconfirmed.reason


def test_a_webhook_with_a_good_signature_creates_the_orders_once(
        kernel, shop, connect, fake_shop, api_url):
    url = f"{api_url}/api/v1/hooks/webstore/web"
    document = fake_shop.add_order("WS-1", customer=GRACE, lines=[("TEA-1", 2, "4.20")])

    delivered = fake_shop.deliver_order_webhook(url, [document])

    assert delivered.status == 200, delivered.body
    assert len(json.loads(delivered.body)["result"]["created"]) == 1
    assert [o["external_reference"] for o in channel_orders(kernel, shop)] == ["WS-1"]
    pulled = import_orders(kernel, "web")  # the same order pulled later: still one order
    assert (pulled.created, pulled.existing) == ((), 1)


def test_a_webhook_replayed_byte_for_byte_is_handled_once(
        kernel, shop, connect, fake_shop, api_url):
    import httpx

    document = fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])
    headers, body = fake_shop.order_webhook([document])
    url = f"{api_url}/api/v1/hooks/webstore/web"

    first = httpx.post(url, content=body, headers=headers)
    replay = httpx.post(url, content=body, headers=headers)

    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert replay.status_code == 200 and replay.json() == {
        "event_id": first.json()["event_id"], "duplicate": True, "result": None}
    assert [o["external_reference"] for o in channel_orders(kernel, shop)] == ["WS-1"]


def test_a_webhook_with_auto_confirm_confirms_in_its_transaction_and_a_shortfall_stays_draft(
        kernel, shop, connect, fake_shop, api_url):
    connect(auto_confirm=True)
    tea = fake_shop.add_order("WS-1", lines=[("TEA-1", 3, "4.20")])
    mugs = fake_shop.add_order("WS-2", lines=[("MUG-1", 11, "12.50")])

    delivered = fake_shop.deliver_order_webhook(f"{api_url}/api/v1/hooks/webstore/web",
                                                [tea, mugs])

    assert delivered.status == 200, delivered.body
    [unconfirmed] = json.loads(delivered.body)["result"]["unconfirmed"]
    assert unconfirmed["external_reference"] == "WS-2" and "MUG-1" in unconfirmed["reason"]
    assert order_by_reference(kernel, shop, "WS-1")["state"] == "confirmed"
    assert order_by_reference(kernel, shop, "WS-2")["state"] == "draft"
    assert available(kernel, shop["tea"], shop["warehouse"]) == Decimal(7)


def test_the_import_job_pulls_every_connected_channel_and_the_stock_job_pushes(
        kernel, shop, connect, fake_shop):
    from erp_core.jobs import JobOutcome, run_job

    fake_shop.add_order("WS-1", customer=GRACE, lines=[("TEA-1", 1, "4.20")])

    imported = run_job(kernel, "orders.import_channel_orders")
    pushed = run_job(kernel, "orders.push_channel_stock")

    assert imported.outcome is JobOutcome.SUCCEEDED, imported.error
    assert "web: 1 created" in imported.summary
    assert [o["external_reference"] for o in channel_orders(kernel, shop)] == ["WS-1"]
    assert pushed.outcome is JobOutcome.SUCCEEDED, pushed.error
    assert fake_shop.stock["TEA-1"] == available(kernel, shop["tea"], shop["warehouse"])


def test_a_webhook_with_a_bad_signature_is_401_and_creates_nothing(
        kernel, shop, connect, fake_shop, api_url):
    document = fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])

    delivered = fake_shop.deliver_order_webhook(
        f"{api_url}/api/v1/hooks/webstore/web", [document], secret="forged")
    stale = fake_shop.deliver_order_webhook(
        f"{api_url}/api/v1/hooks/webstore/web", [document],
        timestamp=int(time.time()) - 3600)

    assert delivered.status == 401 and b"signature" in delivered.body
    assert stale.status == 401
    assert channel_orders(kernel, shop) == []


def test_a_webhook_order_with_an_unknown_sku_is_422_naming_it_and_nothing_is_kept(
        kernel, shop, connect, fake_shop, api_url):
    good = fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])
    bad = fake_shop.add_order("WS-2", lines=[("NOPE-1", 1, "1.00")])
    url = f"{api_url}/api/v1/hooks/webstore/web"

    delivered = fake_shop.deliver_order_webhook(url, [good, bad])

    assert delivered.status == 422
    assert b"NOPE-1" in delivered.body and b"orders[WS-2].lines[0].sku" in delivered.body
    assert channel_orders(kernel, shop) == []


def test_a_webhook_to_a_channel_without_a_driver_is_404(kernel, shop, fake_shop, api_url):
    document = fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])
    delivered = fake_shop.deliver_order_webhook(
        f"{api_url}/api/v1/hooks/webstore/web", [document])
    assert delivered.status == 404


def test_a_channel_deactivated_after_taking_webhooks_takes_no_more(
        kernel, shop, connect, fake_shop, api_url):
    url = f"{api_url}/api/v1/hooks/webstore/web"
    first = fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])
    assert fake_shop.deliver_order_webhook(url, [first]).status == 200
    with kernel.context() as ctx:
        ctx.records("orders.channel").update(shop["channel"], {"active": False})
    second = fake_shop.add_order("WS-2", lines=[("TEA-1", 1, "4.20")])
    assert fake_shop.deliver_order_webhook(url, [second]).status == 404
    assert [o["external_reference"] for o in channel_orders(kernel, shop)] == ["WS-1"]


def bearer(kernel, role: str) -> dict[str, str]:
    from erp_core.security.accounts import create_token, create_user

    with kernel.transaction() as session:
        create_user(session, role.replace(".", "-"), [role])
        return {"Authorization": f"Bearer {create_token(session, role.replace('.', '-'))[1]}"}


def test_a_clerk_imports_and_pushes_stock_on_demand_through_the_api(
        kernel, shop, connect, fake_shop, api_url):
    import httpx

    fake_shop.add_order("WS-1", customer=GRACE, lines=[("TEA-1", 1, "4.20")])
    clerk, reviewer = bearer(kernel, "orders.clerk"), bearer(kernel, "orders.reviewer")
    channel = f"{api_url}/api/v1/orders/channels/web"

    refused = httpx.post(f"{channel}/import", headers=reviewer)
    imported = httpx.post(f"{channel}/import", headers=clerk)
    pushed = httpx.post(f"{channel}/push-stock", headers=clerk)

    assert refused.status_code == 403
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == [order_by_reference(kernel, shop, "WS-1")["id"]]
    assert (pushed.status_code, pushed.json()["levels"]) == (200, 2)
    assert fake_shop.stock == {"TEA-1": Decimal(10), "MUG-1": Decimal(10)}


def test_pushing_stock_sends_what_the_channels_warehouse_can_still_sell(
        kernel, shop, connect, fake_shop, other_warehouse, make_product):
    from erp_inventory.movements import receive

    fake_shop.add_order("WS-1", lines=[("TEA-1", 3, "4.20")])
    import_orders(kernel, "web")
    fire(kernel, order_by_reference(kernel, shop, "WS-1")["id"], "confirm")
    elsewhere = make_product("JAM-1")
    with kernel.context() as ctx:  # stock in another warehouse is not this channel's
        receive(ctx, other_warehouse, elsewhere, Decimal(5), Decimal(1))

    assert push_stock(kernel, "web") == 3

    assert fake_shop.stock == {"TEA-1": Decimal(7), "MUG-1": Decimal(10), "JAM-1": Decimal(0)}


def test_a_channel_that_asks_for_it_gets_new_stock_levels_when_an_order_confirms(
        kernel, shop, connect, fake_shop):
    connect(auto_confirm=True, push_stock_on_change=True)
    fake_shop.add_order("WS-1", lines=[("TEA-1", 4, "4.20")])

    import_orders(kernel, "web")

    assert fake_shop.stock == {"TEA-1": Decimal(6)}


def test_shipping_a_channel_order_tells_the_shop_after_the_commit(
        kernel, shop, connect, fake_shop):
    fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])
    fake_shop.add_order("WS-2", lines=[("TEA-1", 1, "4.20")])
    import_orders(kernel, "web")
    first, second = (order_by_reference(kernel, shop, ref) for ref in ("WS-1", "WS-2"))
    for order in (first, second):
        fire(kernel, order["id"], "confirm")

    assert fire(kernel, first["id"], "ship", {"carrier": "dhl",
                                              "tracking_number": "JJD0001"})["state"] == \
        "shipped"
    fire(kernel, second["id"], "ship")

    shipments = fake_shop.shipments
    assert [(s["order_id"], s["carrier"], s["tracking_number"]) for s in shipments] == [
        ("WS-1", "dhl", "JJD0001"), ("WS-2", "own delivery", second["number"])]


def test_a_shop_refusing_a_shipment_notice_is_logged_and_the_shipment_stands(
        kernel, shop, connect, fake_shop, caplog):
    fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])
    import_orders(kernel, "web")
    order = order_by_reference(kernel, shop, "WS-1")
    fire(kernel, order["id"], "confirm")
    fake_shop.fail_next(503)

    with caplog.at_level(logging.ERROR, logger="erp.orders.channels"):
        assert fire(kernel, order["id"], "ship")["state"] == "shipped"

    assert fake_shop.shipments == []
    assert f"pushing the shipment of order {order['id']}" in caplog.text


def test_a_channel_without_a_driver_cannot_import(kernel, shop):
    with pytest.raises(ValidationError, match="channel web has no driver"):
        import_orders(kernel, "web")


def erp(database_url: str, *args: str):
    return CliRunner().invoke(main, ["--database-url", database_url, "orders", *args],
                              env={"ERP_DATABASE_URL": None})


def test_erp_orders_import_prints_the_counts_and_exits_1_when_an_order_failed(
        kernel, erp_database_url, shop, connect, fake_shop):
    fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])

    imported = erp(erp_database_url, "import", "--channel", "web")

    assert imported.exit_code == 0, imported.output
    assert "web: 1 created, 0 already imported, 0 failed" in imported.output
    fake_shop.add_order("WS-2", lines=[("NOPE-1", 1, "1.00")])
    failed = erp(erp_database_url, "import", "--channel", "web")
    assert failed.exit_code == 1
    assert "failed WS-2" in failed.output and "NOPE-1" in failed.output


def test_erp_orders_import_every_runs_again_until_its_count(
        kernel, erp_database_url, shop, connect, fake_shop):
    fake_shop.add_order("WS-1", lines=[("TEA-1", 1, "4.20")])

    runs = erp(erp_database_url, "import", "--channel", "web", "--every", "0.1", "--times", "2")

    assert runs.exit_code == 0, runs.output
    assert runs.output.count("web: ") == 2
    assert "web: 0 created, 0 already imported, 0 failed" in runs.output
    assert len(channel_orders(kernel, shop)) == 1


def test_erp_orders_import_names_an_unknown_channel(kernel, erp_database_url):
    result = erp(erp_database_url, "import", "--channel", "nowhere")
    assert result.exit_code == 1 and "there is no sales channel 'nowhere'" in result.output


def test_erp_orders_push_stock_sends_the_levels(kernel, erp_database_url, shop, connect,
                                                fake_shop):
    result = erp(erp_database_url, "push-stock", "--channel", "web")
    assert result.exit_code == 0, result.output
    assert "web: 2 stock levels pushed" in result.output
    assert fake_shop.stock == {"TEA-1": Decimal(10), "MUG-1": Decimal(10)}

