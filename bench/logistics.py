"""Logistics: rate shopping across slow carriers, and tracking webhooks per second.

Rate shopping: five SwiftPost accounts, each on its own fake SwiftPost API (a real local
HTTP server) answering rates after 200 ms; one shipment is rated again and again through
the plugin's service (``shop_rates``: read, ask every carrier in parallel, decide, write).
Asked one after the other they would take 1 s; the target is a p95 within 1.3 times the
slowest carrier.

Tracking webhooks: signed SwiftPost webhooks (10 scans each, a fifth of them sent twice)
handed by 8 threads to the kernel's inbound webhook reception (the function the
``POST /api/v1/hooks/{driver}/{account}`` route runs: signature check, event-id
deduplication, the plugin's handling, one transaction per webhook), for 200 parcels of
200 shipments. Afterwards the
tracking events are counted: every scan must be kept exactly once (applied_twice=0).

    python bench/logistics.py [--quick] [--database-url URL]

prints one line per configuration:
    logistics_rate_shop backend=postgresql carriers=5 delay_ms=200 p50_ms=...
        p95_ms=... ratio_to_slowest=...
    logistics_tracking_webhooks backend=postgresql threads=8 scans_per_webhook=10
        events_per_s=... applied_twice=0
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database

from erp_carrier_swiftpost import FakeSwiftPost
from erp_core.inbound import InboundWebhook, receive
from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_inventory.catalogue import Product
from erp_inventory.movements import receive as receive_stock
from erp_inventory.warehouses import create_warehouse
from erp_logistics.rating import shop_rates
from erp_logistics.shipment import LabelState, Package, Shipment, ShipmentState
from erp_logistics.tracking_event import TrackingRecord
from erp_sdk import Principal

SHIP_FROM = {"name": "Bench", "line1": "1 rue A", "city": "Paris", "postal_code": "75001",
             "country": "FR"}
SYSTEM = Principal.system("bench")


def _kernel(database: str, pool: int) -> Kernel:
    kernel = Kernel(Settings.from_env({}, database_url=database, pool_size=pool))
    kernel.initialise()
    kernel.enable(["logistics"])
    return kernel.boot()


def _order(kernel: Kernel) -> int:
    """A confirmed order of one unit, shipped to Lyon."""
    with kernel.context(SYSTEM) as ctx:
        warehouse = create_warehouse(ctx.session, "W", "Bench").id
        product = Product(sku="B1", name="Bench", weight_kg=Decimal("1.2"), version=1)
        ctx.session.add(product)
        ctx.session.flush()
        receive_stock(ctx, warehouse, product.id, Decimal(100), Decimal(1))
        channel = ctx.records("orders.channel").create(
            {"code": "bench", "name": "Bench", "kind": "own_site", "warehouse_id": warehouse})
        customer = ctx.records("crm.customer").create({"name": "Ada", "kind": "person"})
        for rule in ("first_order", "address_mismatch"):
            ctx.records("orders.review_policy").create({"rule": rule, "enabled": False})
        from erp_orders.placing import LineRequest, OrderRequest, place

        placed = place(ctx, OrderRequest(
            channel_id=channel["id"], customer_id=customer["id"],
            lines=(LineRequest(product_id=product.id, quantity=Decimal(1)),),
            shipping_address={"name": "C", "line1": "12 rue M", "city": "Lyon",
                              "postal_code": "69002", "country": "FR"}))
        ctx.fire("orders.order", placed.id, "confirm")
        return placed.id


def _account(kernel: Kernel, api: FakeSwiftPost, name: str, timeout_ms: int = 2000) -> int:
    with kernel.context(SYSTEM) as ctx:
        return ctx.records("logistics.carrier_account").create({
            "name": name, "driver": "swiftpost", "ship_from": SHIP_FROM,
            "rate_timeout_ms": timeout_ms,
            "settings": {"base_url": api.url, "timeout_seconds": 5},
            "secrets": {"api_key": api.api_key, "webhook_secret": api.webhook_secret}})["id"]


def rate_shop(url: str, carriers: int, delay: float, rounds: int) -> tuple[float, float]:
    apis = [FakeSwiftPost(rate_delay=delay).start() for _ in range(carriers)]
    try:
        with scratch_database(url) as database:
            kernel = _kernel(database, 4)
            order = _order(kernel)
            for number, api in enumerate(apis):
                _account(kernel, api, f"carrier{number}")
            from erp_logistics.shipping import NewShipment, create_shipment

            with kernel.context(SYSTEM) as ctx:
                shipment = create_shipment(ctx, NewShipment(order_id=order))["id"]
            shop_rates(kernel, SYSTEM, shipment)  # warm: drivers built, statements compiled
            times = []
            for _ in range(rounds):
                began = time.perf_counter()
                decision = shop_rates(kernel, SYSTEM, shipment)["rate_decision"]
                times.append((time.perf_counter() - began) * 1000)
                assert len(decision["rates"]) == 2 * carriers, decision["skipped"]
            kernel.close()
    finally:
        for api in apis:
            api.stop()
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


def tracking_webhooks(url: str, threads: int, parcels: int, webhooks: int,
                      per_webhook: int) -> tuple[float, int, int]:
    api = FakeSwiftPost()
    with scratch_database(url) as database:
        kernel = _kernel(database, threads + 2)
        order = _order(kernel)
        account = _account(kernel, api, "swiftpost")
        with kernel.context(SYSTEM) as ctx:  # a parcel per shipment, as most orders ship
            shipments = [Shipment(order_id=order, state=ShipmentState.HANDED_OVER,
                                  carrier_account_id=account, service="standard", version=1)
                         for _ in range(parcels)]
            ctx.session.add_all(shipments)
            ctx.session.flush()
            ctx.session.add_all(Package(shipment_id=shipment.id, weight_kg=Decimal(1),
                                        label_state=LabelState.LABELLED,
                                        tracking_number=f"SP{n:010d}", version=1)
                                for n, shipment in enumerate(shipments))
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        ids = itertools.count()
        codes = ["picked_up", "arrived_at_hub", "in_transit", "out_for_delivery"]
        bodies = []
        for number in range(webhooks):
            scans = []
            for _ in range(per_webhook):
                n = next(ids)
                scans.append({"id": f"evt_{n:09d}", "tracking_number":
                              f"SP{n % parcels:010d}", "code": codes[(n // parcels) % 4],
                              "location": "hub", "occurred_at":
                              (start + dt.timedelta(seconds=n)).isoformat()})
            bodies.append(api.webhook_body(scans))
            if number % 5 == 0:
                bodies.append(bodies[-1])  # the carrier sends it again
        unique = next(ids)
        work = iter(bodies)
        lock = threading.Lock()

        def deliver() -> None:
            while True:
                with lock:
                    body = next(work, None)
                if body is None:
                    return
                receive(kernel, InboundWebhook("swiftpost", "swiftpost",
                                               api.signed_headers(body), body))

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(deliver) for _ in range(threads)]:
                future.result()
        elapsed = time.perf_counter() - began
        with kernel.transaction() as session:
            kept = session.scalar(sa.select(sa.func.count()).select_from(TrackingRecord))
            twice = session.scalar(sa.select(sa.func.count()).select_from(
                sa.select(TrackingRecord.event_key).group_by(TrackingRecord.event_key)
                .having(sa.func.count() > 1).subquery()))
        kernel.close()
    api.stop()
    return unique / elapsed, kept - unique + twice, unique


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite://",
                        help="sqlite:// (a temporary file) or a PostgreSQL URL")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and webhooks")
    args = parser.parse_args()
    backend = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    delay = 0.2
    p50, p95 = rate_shop(args.database_url, 5, delay, 10 if args.quick else 40)
    print(f"logistics_rate_shop backend={backend} carriers=5 delay_ms={delay * 1000:.0f}"
          f" p50_ms={p50:.1f} p95_ms={p95:.1f} ratio_to_slowest={p95 / (delay * 1000):.2f}",
          flush=True)
    threads = 1 if backend == "sqlite" else 8
    webhooks = 100 if args.quick else 500
    per_s, applied_twice, _ = tracking_webhooks(args.database_url, threads, 200, webhooks, 10)
    print(f"logistics_tracking_webhooks backend={backend} threads={threads}"
          f" scans_per_webhook=10 events_per_s={per_s:.1f} applied_twice={applied_twice}",
          flush=True)


if __name__ == "__main__":
    main()
