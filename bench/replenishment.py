"""One replenishment run over many product-warehouse pairs with a year of sales history.

Each configuration gets a fresh PostgreSQL schema with inventory and supply enabled and
fills it with set-based SQL: products in two warehouses, a reorder rule per pair, two
supplier offers per product (some in US dollars) with price breaks, a year of shipments
to customers, receipts whose lead times vary, and open purchase orders due over the next
two months. Then one ``replenish`` run computes every suggestion and proposes the draft
purchase orders, in one transaction, and is timed.

    python bench/replenishment.py [--quick] [--database-url URL]

prints one line per configuration:
    replenishment backend=postgresql pairs=50000 shipments=1200000 seconds=12.3
        python_cpu_s=6.1 suggestions=5288 ms_per_pair=0.25 purchase_orders=38

(``seconds`` is the wall time of the run, ``python_cpu_s`` the share of it this process
spent computing; the rest is PostgreSQL's and waiting on a shared machine.)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database

from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_inventory.warehouses import (
    LocationKind,
    create_warehouse,
    virtual_location,
    warehouse_location,
)
from erp_sdk import Principal
from erp_supply.replenishment import replenish

SUPPLIERS = 20
STAMPS = "1, now(), now()"  # version, created_at, updated_at


def fill(session, products: int, shipments_per_pair: int) -> dict[str, int]:
    """The history of a business, written with a handful of INSERT ... SELECT."""
    warehouses = [create_warehouse(session, code, code).id for code in ("NORTH", "SOUTH")]
    storage = {w: warehouse_location(session, w).id for w in warehouses}
    customer = virtual_location(session, LocationKind.CUSTOMER).id
    run = lambda sql, **params: session.execute(sa.text(sql), params)  # noqa: E731
    run("SELECT setseed(0.42)")
    run(f"""INSERT INTO inventory_product (sku, name, unit, list_price, cost, currency, listed,
            active, version, created_at, updated_at)
            SELECT 'P' || n, 'Product ' || n, 'pcs', 10 + n % 90, 4 + n % 40, 'EUR', true,
            true, {STAMPS} FROM generate_series(1, :n) AS n""", n=products)
    pairs = ("SELECT p.id AS product_id, w.id AS warehouse_id, w.loc FROM inventory_product p"
             f" CROSS JOIN (VALUES {', '.join(f'({w}, {storage[w]})' for w in warehouses)})"
             " AS w(id, loc)")
    run(f"""INSERT INTO inventory_stock (product_id, warehouse_id, on_hand, reserved, available,
            updated_at)
            SELECT product_id, warehouse_id, q + r, r, q, now() FROM (
              SELECT product_id, warehouse_id, floor(random() * 60) AS q,
                     floor(random() * 10) AS r FROM ({pairs}) AS pairs) AS s""")
    run(f"""INSERT INTO inventory_move (product_id, quantity, from_location_id, to_location_id,
            state, unit_cost, done_at, origin, reason)
            SELECT product_id, 1 + floor(random() * 20), loc, :customer, 'done', 5,
            now() - random() * interval '365 days', 'bench:sale', NULL
            FROM ({pairs}) AS pairs CROSS JOIN generate_series(1, :k)""",
        customer=customer, k=shipments_per_pair)
    run(f"""INSERT INTO supply_supplier (code, name, contact_name, email, phone, currency,
            payment_terms_days, over_receipt_tolerance, bill_quantity_tolerance,
            bill_price_tolerance, active, version, created_at, updated_at)
            SELECT 'S' || n, 'Supplier ' || n, NULL, NULL, NULL,
            CASE WHEN n % 4 = 0 THEN 'USD' ELSE 'EUR' END, 30, 0.05, 0, 0.02, true, {STAMPS}
            FROM generate_series(1, :s) AS n""", s=SUPPLIERS)
    run(f"""INSERT INTO kernel_exchange_rate (currency, quote_currency, rate_date, rate, source,
            version, created_at, updated_at)
            VALUES ('USD', 'EUR', current_date - 10, 0.92, 'bench', {STAMPS})""")
    run(f"""INSERT INTO supply_supplier_product (supplier_id, product_id, supplier_sku, currency,
            minimum_order_quantity, lead_time_days, freight_per_unit, duty_rate, valid_from,
            valid_to, version, created_at, updated_at)
            SELECT s.id, p.id, s.code || '-' || p.sku, s.currency, 10 * (1 + p.id % 3),
            3 + (s.id * 7 + p.id) % 20, 0.1 * (s.id % 3), CASE WHEN s.currency = 'USD'
            THEN 0.04 ELSE 0 END, NULL, NULL, {STAMPS}
            FROM inventory_product p JOIN supply_supplier s
            ON s.id IN (1 + p.id % :s, 1 + (p.id + 7) % :s)""", s=SUPPLIERS)
    run(f"""INSERT INTO supply_price_break (supplier_product_id, minimum_quantity, unit_price,
            version, created_at, updated_at)
            SELECT sp.id, b.minimum, round((3 + (sp.id % 50) / 10.0) * b.factor, 2), {STAMPS}
            FROM supply_supplier_product sp
            CROSS JOIN (VALUES (0, 1.0), (50, 0.95)) AS b(minimum, factor)""")
    for state, days in (("received", -40), ("confirmed", 20)):
        run(f"""INSERT INTO supply_purchase_order (number, supplier_id, warehouse_id, currency,
                state, order_date, expected_date, freight, duty, untaxed_amount, sent_at,
                confirmed_at, backorder_of_id, note, version, created_at, updated_at)
                SELECT NULL, s.id, w.id, s.currency, :state, current_date + :days - 10,
                current_date + :days, 0, 0, 0, now(), now(), NULL, 'bench', {STAMPS}
                FROM supply_supplier s CROSS JOIN inventory_warehouse w""",
            state=state, days=days)
    # One line per product, warehouse and first supplier on the received orders, a tenth
    # of the pairs on the open ones, due over the next two months.
    run(f"""INSERT INTO supply_purchase_order_line (order_id, product_id, quantity, unit_price,
            expected_date, original_quantity, original_expected_date, received_quantity,
            rejected_quantity, cancelled_quantity, amount, version, created_at, updated_at)
            SELECT o.id, p.id, 40, 4, CASE WHEN o.state = 'received' THEN o.expected_date
            ELSE current_date + (p.id % 60) END, NULL, NULL,
            CASE WHEN o.state = 'received' THEN 40 ELSE 0 END, 0, 0, 160, {STAMPS}
            FROM supply_purchase_order o JOIN inventory_product p
            ON o.supplier_id = 1 + p.id % :s
            WHERE o.state = 'received' OR p.id % 10 = 0""", s=SUPPLIERS)
    run(f"""INSERT INTO supply_receipt (number, purchase_order_id, supplier_id, warehouse_id,
            notice_id, received_on, exchange_rate, received_at, version, created_at,
            updated_at)
            SELECT NULL, o.id, o.supplier_id, o.warehouse_id, NULL, o.expected_date - k, 1,
            now(), {STAMPS} FROM supply_purchase_order o CROSS JOIN generate_series(0, 3) k
            WHERE o.state = 'received'""")
    run(f"""INSERT INTO supply_receipt_line (receipt_id, order_line_id, product_id, quantity,
            rejected_quantity, unit_cost, lead_time_days, on_time, move_id, rejected_move_id,
            version, created_at, updated_at)
            SELECT r.id, l.id, l.product_id, 10, 0, 4, 8 + floor(random() * 5), true, NULL,
            NULL, {STAMPS} FROM supply_receipt r
            JOIN supply_purchase_order_line l ON l.order_id = r.purchase_order_id""")
    run(f"""INSERT INTO supply_reorder_rule (product_id, warehouse_id, method, minimum, maximum,
            velocity_days, review_days, service_factor, max_lead_time_days, active, version,
            created_at, updated_at)
            SELECT product_id, warehouse_id, 'computed', NULL, NULL, 90, 14, 1.65, NULL, true,
            {STAMPS} FROM ({pairs}) AS pairs""")
    run("ANALYZE")
    counts = {name: session.scalar(sa.text(f"SELECT count(*) FROM {table}")) for name, table in
              (("pairs", "supply_reorder_rule"), ("shipments", "inventory_move"))}
    return counts


def run_configuration(url: str, products: int, shipments_per_pair: int) -> str:
    with scratch_database(url) as database:
        kernel = Kernel(Settings.from_env({}, database_url=database))
        kernel.initialise()
        kernel.enable(["supply"])
        kernel.boot()
        with kernel.transaction() as session:
            counts = fill(session, products, shipments_per_pair)
        began, cpu = time.perf_counter(), time.process_time()
        summary = kernel.run(lambda ctx: replenish(ctx), Principal.system("bench"))
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        kernel.close()
    return (f"replenishment backend=postgresql pairs={counts['pairs']}"
            f" shipments={counts['shipments']} seconds={elapsed:.2f} python_cpu_s={cpu:.2f}"
            f" suggestions={summary.suggestions}"
            f" ms_per_pair={1000 * elapsed / max(counts['pairs'], 1):.3f}"
            f" purchase_orders={len(summary.purchase_orders)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("ERP_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL (default: $ERP_TEST_DATABASE_URL)")
    parser.add_argument("--quick", action="store_true", help="5,000 pairs instead of 50,000")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgres"):
        parser.error("the replenishment benchmark runs on PostgreSQL: give --database-url")
    products, shipments = (2_500, 12) if args.quick else (25_000, 24)
    print(run_configuration(args.database_url, products, shipments), flush=True)


if __name__ == "__main__":
    main()
