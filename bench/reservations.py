"""Reservations per second under contention, and units oversold (must be 0).

Each configuration gets a fresh database with the inventory plugin enabled, stocks its
SKUs, then lets N threads (each with its own database connection) reserve one unit at a
time, one transaction per reservation, until the attempts run out. The stock is a little
smaller than the attempts, so the last reservations race for the last units. Afterwards
the ledger is checked: oversold = units reserved beyond what was received.

    python bench/reservations.py [--quick] [--database-url URL]

prints one line per configuration:
    reservations backend=postgresql workers=32 skus=1 per_s=812.5 oversold=0
"""

from __future__ import annotations

import argparse
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

from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_inventory.catalogue import Product
from erp_inventory.exceptions import InsufficientStock
from erp_inventory.ledger import Move, StockLevel
from erp_inventory.movements import receive
from erp_inventory.reservations import Reservation, ReservationLine, reserve
from erp_inventory.warehouses import create_warehouse
from erp_sdk import Principal


def run_configuration(url: str, workers: int, skus: int, attempts: int) -> tuple[float, Decimal]:
    with scratch_database(url) as database:
        kernel = Kernel(Settings.from_env({}, database_url=database, pool_size=workers + 2))
        kernel.initialise()
        kernel.enable(["inventory"])
        kernel.boot()
        system = Principal.system("bench")
        per_sku = max(1, (attempts - workers) // skus)
        with kernel.context(system) as ctx:
            warehouse = create_warehouse(ctx.session, "W", "Bench").id
            products = []
            for number in range(skus):
                product = Product(sku=f"B{number}", name="Bench", version=1)
                ctx.session.add(product)
                ctx.session.flush()
                products.append(product.id)
            for product_id in products:
                receive(ctx, warehouse, product_id, Decimal(per_sku), Decimal(1))
        counter = itertools.count()
        lock = threading.Lock()
        start_line = threading.Barrier(workers + 1)

        def work() -> int:
            done = 0
            start_line.wait()
            while True:
                with lock:
                    number = next(counter)
                if number >= attempts:
                    return done
                product_id = products[number % skus]
                try:
                    with kernel.context(system) as ctx:
                        reserve(ctx, warehouse, [ReservationLine(product_id, Decimal(1),
                                                                 f"bench:{number}")])
                    done += 1
                except InsufficientStock:
                    pass

        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(work) for _ in range(workers)]
            start_line.wait()
            began = time.perf_counter()
            reserved = sum(f.result() for f in futures)
            elapsed = time.perf_counter() - began
        with kernel.transaction() as session:
            received = session.scalar(sa.select(sa.func.sum(Move.quantity))) or Decimal(0)
            promised = session.scalar(sa.select(sa.func.sum(Reservation.quantity))) or Decimal(0)
            negative = session.scalar(sa.select(sa.func.count()).select_from(StockLevel)
                                      .where(StockLevel.available < 0))
        kernel.close()
        oversold = max(Decimal(0), promised - received) + negative
        return reserved / elapsed, oversold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite://",
                        help="sqlite:// (a temporary file) or a PostgreSQL URL")
    parser.add_argument("--quick", action="store_true", help="fewer attempts and runs")
    parser.add_argument("--runs", type=int, default=None, help="runs per configuration")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    attempts = 400 if args.quick else 3000
    backend = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    for skus in (1, 1000):
        for workers in (1, 8, 32):
            results = [run_configuration(args.database_url, workers, skus, attempts)
                       for _ in range(runs)]
            per_s = statistics.median(r[0] for r in results)
            oversold = max(r[1] for r in results)
            print(f"reservations backend={backend} workers={workers} skus={skus}"
                  f" per_s={per_s:.1f} oversold={oversold.normalize():f}", flush=True)


if __name__ == "__main__":
    main()
