"""Promotions: pricing a 50-line cart against 10,000 active promotions (200 automatic),
and 1,000 concurrent redemptions of a coupon limited to 100 uses.

Each configuration gets a fresh database with the promotions plugin enabled.

- ``case=cart``: 10,000 active promotions, 200 of them automatic (conditions on products,
  categories, subtotals, exclusive ones among them) and 9,800 behind a coupon code each.
  A 50-line cart with one code is evaluated as placing an order evaluates it
  (``evaluate_cart``: candidate selection, the customer's facts, conditions, stacking,
  allocation; one transaction each, nothing taken), many times: p50 and p95 in
  milliseconds. Target: p95 <= 20 ms.
- ``case=coupon``: 1,000 orders placed by 32 threads, each its own transaction, all
  with the same code limited to 100 uses: ``redeemed`` must be exactly 100.

    python bench/promotions.py [--quick] [--database-url URL]

prints one line per configuration:
    promotions backend=postgresql case=cart lines=50 promotions=10000 p50_ms=... p95_ms=...
    promotions backend=postgresql case=coupon limit=100 attempts=1000 redeemed=100
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
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

from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_crm.customers import Customer
from erp_inventory.catalogue import Category, Product
from erp_inventory.warehouses import create_warehouse
from erp_orders.channel import Channel
from erp_orders.placing import LineRequest, OrderRequest, place_order
from erp_orders.pricing import Cart, CartLine
from erp_promotions.coupon import Coupon
from erp_promotions.pricing import evaluate_cart
from erp_promotions.promotion import Promotion
from erp_promotions.redemption import Redemption
from erp_sdk import ConflictError, Principal, insert_rows, utcnow

PROMOTIONS, AUTOMATIC, LINES, PRODUCTS = 10_000, 200, 50, 500


def _kernel(database: str, pool: int) -> Kernel:
    kernel = Kernel(Settings.from_env({}, database_url=database, pool_size=pool))
    kernel.initialise()
    kernel.enable(["promotions"])
    kernel.boot()
    return kernel


def _shop(kernel: Kernel) -> dict[str, object]:
    """Products in 10 categories, a channel and a customer."""
    with kernel.transaction() as session:
        warehouse = create_warehouse(session, "W", "Bench").id
        categories = insert_rows(session, Category, [{"name": f"C{n}"} for n in range(10)])
        products = insert_rows(session, Product, [
            {"sku": f"P{n}", "name": "Bench", "list_price": Decimal(100 + n) / 10,
             "category_id": categories[n % 10]} for n in range(PRODUCTS)])
        [channel] = insert_rows(session, Channel, [
            {"code": "web", "name": "Web", "kind": "own_site", "warehouse_id": warehouse,
             "settings": {}, "secrets": {}, "active": True}])
        [customer] = insert_rows(session, Customer, [{"name": "Bench", "kind": "person"}])
    return {"products": products, "categories": categories, "channel": channel,
            "customer": customer}


def _promotions(kernel: Kernel, shop: dict[str, object]) -> None:
    rng = random.Random(1)
    products, categories = shop["products"], shop["categories"]
    base = {"status": "active", "priority": 0, "exclusive": False, "first_order": False,
            "target": "items", "allocation": "each", "timezone": "Europe/Berlin",
            "starts_on": dt.date(2020, 1, 1), "ends_on": dt.date(2099, 12, 31),
            "percentage": None, "amount": None, "buy_quantity": None, "get_quantity": None,
            "product_ids": None, "category_ids": None, "min_subtotal": None}
    rows = []
    for number in range(PROMOTIONS):
        kind = number % 5
        row = {**base, "name": f"promo {number}", "automatic": number < AUTOMATIC,
               "priority": rng.randint(0, 3), "exclusive": rng.random() < 0.1}
        if kind == 0:
            row.update(action="percentage_off", percentage=Decimal(rng.randint(5, 30)) / 100,
                       product_ids=rng.sample(products, 5))
        elif kind == 1:
            row.update(action="amount_off", amount=Decimal(rng.randint(1, 10)),
                       target="order", allocation="across", min_subtotal=Decimal(50))
        elif kind == 2:
            row.update(action="buy_x_get_y", buy_quantity=2, get_quantity=1,
                       category_ids=[rng.choice(categories)])
        elif kind == 3:
            row.update(action="percentage_off", percentage=Decimal("0.05"),
                       category_ids=[rng.choice(categories)], allocation="across")
        else:
            row.update(action="free_shipping", min_subtotal=Decimal(rng.randint(20, 200)))
        rows.append(row)
    with kernel.transaction() as session:
        ids = insert_rows(session, Promotion, rows)
        insert_rows(session, Coupon, [
            {"code": f"CODE{number:05d}", "promotion_id": promotion_id, "batch_id": None,
             "usage_limit": None, "used": 0, "active": True}
            for number, promotion_id in enumerate(ids) if number >= AUTOMATIC])


def cart_case(url: str, runs: int) -> tuple[float, float, float, float]:
    """Wall-clock p50 and p95, then this process's CPU time p50 and p95 (the CPU figures
    tell the evaluation's own cost apart from waiting for a busy machine's cores)."""
    with scratch_database(url) as database:
        kernel = _kernel(database, 4)
        shop = _shop(kernel)
        _promotions(kernel, shop)
        rng = random.Random(2)
        products = shop["products"]
        cart = Cart(shop["channel"], shop["customer"], "EUR", utcnow(), tuple(
            CartLine(product, Decimal(rng.randint(1, 3)), Decimal(100 + i) / 10,
                     category_id=shop["categories"][products.index(product) % 10])
            for i, product in enumerate(rng.sample(products, LINES))),
            Decimal("4.90"), ("CODE05000",))
        system = Principal.system("bench")
        timings, cpu = [], []
        for number in range(runs + 5):
            began, began_cpu = time.perf_counter(), time.process_time()
            with kernel.context(system) as ctx:
                outcome, _ = evaluate_cart(ctx, cart)
            if number >= 5:  # the first ones fill the process's caches
                timings.append((time.perf_counter() - began) * 1000)
                cpu.append((time.process_time() - began_cpu) * 1000)
        assert outcome.applied, "the bench cart should get some promotion"
        kernel.close()
    return _percentiles(timings) + _percentiles(cpu)


def _percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[int(len(values) * 0.95) - 1]


def coupon_case(url: str, attempts: int, limit: int, workers: int) -> int:
    with scratch_database(url) as database:
        kernel = _kernel(database, workers + 2)
        shop = _shop(kernel)
        with kernel.transaction() as session:
            [promotion] = insert_rows(session, Promotion, [
                {"name": "hot", "status": "active", "automatic": False, "action": "amount_off",
                 "target": "order", "allocation": "across", "amount": Decimal(1),
                 "priority": 0, "exclusive": False, "first_order": False, "timezone": "UTC"}])
            insert_rows(session, Coupon, [{"code": "HOT", "promotion_id": promotion,
                                           "usage_limit": limit, "used": 0, "active": True}])
        system = Principal.system("bench")
        start_line = threading.Barrier(workers)
        numbers = iter(range(attempts))
        lock = threading.Lock()

        def work() -> int:
            redeemed = 0
            start_line.wait()
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return redeemed
                request = OrderRequest(
                    channel_id=shop["channel"], customer_id=shop["customer"],
                    lines=[LineRequest(shop["products"][number % PRODUCTS], Decimal(1))],
                    coupon_codes=["HOT"])
                try:
                    kernel.run(lambda ctx, request=request: place_order(ctx, request), system)
                    redeemed += 1
                except ConflictError:
                    pass

        with ThreadPoolExecutor(max_workers=workers) as pool:
            redeemed = sum(pool.map(lambda _: work(), range(workers)))
        with kernel.transaction() as session:
            stored = session.scalar(sa.select(sa.func.count()).select_from(Redemption))
            used = session.scalar(sa.select(Coupon.used).where(Coupon.code == "HOT"))
        kernel.close()
        if not redeemed == stored == used:
            raise SystemExit(f"inconsistent: {redeemed} placed, {stored} stored, {used} used")
        return redeemed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite://",
                        help="sqlite:// (a temporary file) or a PostgreSQL URL")
    parser.add_argument("--quick", action="store_true", help="fewer timed runs and attempts")
    args = parser.parse_args()
    backend = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    runs = 50 if args.quick else 300
    p50, p95, cpu50, cpu95 = cart_case(args.database_url, runs)
    print(f"promotions backend={backend} case=cart lines={LINES} promotions={PROMOTIONS}"
          f" automatic={AUTOMATIC} p50_ms={p50:.1f} p95_ms={p95:.1f}"
          f" cpu_p50_ms={cpu50:.1f} cpu_p95_ms={cpu95:.1f}", flush=True)
    attempts, limit = (300, 100) if args.quick else (1000, 100)
    redeemed = coupon_case(args.database_url, attempts, limit, 32)
    print(f"promotions backend={backend} case=coupon limit={limit} attempts={attempts}"
          f" redeemed={redeemed}", flush=True)


if __name__ == "__main__":
    main()
