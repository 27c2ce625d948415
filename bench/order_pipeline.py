"""Orders per second through the whole order flow that exists.

Each order goes through place (3 lines) -> confirm (review rules, stock reservation) ->
ship -> complete, each step its own transaction as a client would send it. Two modes:
``inprocess`` calls the services from worker threads; ``http`` starts a real server
(``erp serve --workers N``) and sends the same four requests per order over HTTP from
concurrent clients. Prints one line per configuration:

    order_pipeline backend=postgresql mode=http workers=16 orders_per_s=201.3 queries_per_order=41.0

    python bench/order_pipeline.py [--quick] [--database-url URL] [--mode inprocess|http|both]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database

from erp_core.kernel import Kernel
from erp_core.security.accounts import create_token, create_user
from erp_core.settings import Settings
from erp_inventory.catalogue import Product
from erp_inventory.movements import receive
from erp_inventory.warehouses import create_warehouse
from erp_orders.placing import LineRequest, OrderRequest, place_order
from erp_sdk import Principal

PRODUCTS = 60


def prepare(kernel: Kernel) -> dict[str, object]:
    kernel.initialise()
    kernel.enable(["orders"])
    kernel.boot()
    with kernel.context(Principal.system("bench")) as ctx:
        warehouse = create_warehouse(ctx.session, "W", "Bench").id
        products = []
        for number in range(PRODUCTS):
            product = Product(sku=f"P{number}", name="Bench", list_price=Decimal("9.99"),
                              version=1)
            ctx.session.add(product)
            ctx.session.flush()
            products.append(product.id)
            receive(ctx, warehouse, product.id, Decimal(1_000_000), Decimal("3.10"))
        channel = ctx.records("orders.channel").create(
            {"code": "web", "name": "Web", "kind": "own_site", "warehouse_id": warehouse,
             "settings": {}, "secrets": {}})["id"]
        customer = ctx.records("crm.customer").create({"name": "Bench", "kind": "person"})["id"]
        for rule in ("first_order", "address_mismatch"):
            ctx.records("orders.review_policy").create({"rule": rule, "enabled": False})
        create_user(ctx.session, "bench", ["admin"])
        token = create_token(ctx.session, "bench")[1]
    return {"warehouse": warehouse, "products": products, "channel": channel,
            "customer": customer, "token": token}


def lines_for(number: int, products: list[int]) -> list[tuple[int, str]]:
    return [(products[(number * 3 + k) % len(products)], str(1 + k)) for k in range(3)]


def run_inprocess(kernel: Kernel, setup: dict, orders: int, workers: int) -> tuple[float, float]:
    system = Principal.system("bench")
    counter = itertools.count()
    lock = threading.Lock()
    queries = itertools.count()
    sa.event.listen(kernel.engine, "before_cursor_execute", lambda *a: next(queries))

    def one(number: int) -> None:
        with kernel.context(system) as ctx:
            order_id, _ = place_order(ctx, OrderRequest(
                channel_id=setup["channel"], customer_id=setup["customer"],
                lines=[LineRequest(p, Decimal(q)) for p, q in lines_for(number,
                                                                      setup["products"])]))
        for transition in ("confirm", "ship", "complete"):
            with kernel.context(system) as ctx:
                ctx.fire("orders.order", order_id, transition)

    def work() -> None:
        while True:
            with lock:
                number = next(counter)
            if number >= orders:
                return
            one(number)

    before = next(queries)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()
    elapsed = time.perf_counter() - began
    return orders / elapsed, (next(queries) - before - 1) / orders


def run_http(database: str, setup: dict, orders: int, workers: int,
             server_workers: int) -> float:
    env = {**os.environ, "ERP_DATABASE_URL": database, "ERP_DATABASE_POOL_SIZE": "8"}
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [sys.executable, "-m", "erp_core", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(server_workers)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        headers = {"Authorization": f"Bearer {setup['token']}"}
        counter = itertools.count()
        lock = threading.Lock()

        def work() -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                while True:
                    with lock:
                        number = next(counter)
                    if number >= orders:
                        return
                    body = {"channel_id": setup["channel"], "customer_id": setup["customer"],
                            "lines": [{"product_id": p, "quantity": q}
                                      for p, q in lines_for(number, setup["products"])]}
                    response = client.post("/api/v1/orders/place", json=body)
                    response.raise_for_status()
                    order_id = response.json()["id"]
                    for transition in ("confirm", "ship", "complete"):
                        client.post(f"/api/v1/orders/orders/{order_id}/{transition}"
                                    ).raise_for_status()

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(work) for _ in range(workers)]:
                future.result()
        return orders / (time.perf_counter() - began)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mode", choices=["inprocess", "http", "both"], default="both")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--orders", type=int, default=None)
    args = parser.parse_args()
    backend = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    runs = args.runs or (1 if args.quick else 3)
    orders = args.orders or (60 if args.quick else 400)
    modes = ["inprocess", "http"] if args.mode == "both" else [args.mode]
    for mode in modes:
        results = []
        for _ in range(runs):
            with scratch_database(args.database_url) as database:
                kernel = Kernel(Settings.from_env({}, database_url=database, pool_size=20))
                setup = prepare(kernel)
                if mode == "inprocess":
                    results.append(run_inprocess(kernel, setup, orders, workers=8))
                    kernel.close()
                else:
                    kernel.close()
                    results.append((run_http(database, setup, orders, workers=16,
                                             server_workers=2), float("nan")))
        per_s = statistics.median(r[0] for r in results)
        queries = statistics.median(r[1] for r in results)
        extra = f" queries_per_order={queries:.1f}" if mode == "inprocess" else ""
        workers = 8 if mode == "inprocess" else 16
        print(f"order_pipeline backend={backend} mode={mode} workers={workers}"
              f" orders_per_s={per_s:.1f}{extra}", flush=True)


if __name__ == "__main__":
    main()
