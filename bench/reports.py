"""Reports over a year of order lines: each report through the query API's compiled SQL
against a hand-written SQL query of the same figures, the dashboard's first load, and the
memory a 1,000,000-row CSV export takes.

The shop has 3 channels, 20 categories, 500 products and 5,000 customers; the orders (two
lines each, nine in ten sold, one in ten cancelled) are spread over the year before today,
written by the database itself (``generate_series`` or a recursive CTE), so setting up a
million lines takes a minute rather than an hour. Each report runs ``--repeat`` times
after one warm-up run, through the reports plugin's compiler (``compiled``) and as
hand-written SQL (``sql``), alternating, on the same connection; ``ratio_to_sql`` is the
median time of the compiled query over the hand-written one's (target <= 1.5). The
dashboard line is the server time of ``GET /dashboard`` (every tile) for a signed-in
administrator, first load and the median of the next ones (target <= 300 ms on
PostgreSQL). The export line streams a CSV of one row per order and product (one per
sold line: nine in ten of the lines) and reports the growth of the process's resident
memory while it runs (target < 200 MB). The reports plugin's rollups are built once the
orders are written (``build_s``; ``refresh_ms``: a refresh with nothing changed), as the
worker's job would. One line per figure:

    reports backend=postgresql lines=1000000 report=sales_by_day_and_channel \
        compiled_ms=812.4 sql_ms=790.2 ratio_to_sql=1.03
    reports backend=postgresql lines=1000000 dashboard first_load_ms=250.1 warm_ms=180.3
    reports backend=postgresql lines=1000000 export=csv rows=1000000 seconds=14.2 \
        memory_growth_mb=21.4

    python bench/reports.py [--quick] [--database-url URL] [--lines N] [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database

from erp_core.api import create_app
from erp_core.kernel import Kernel
from erp_core.security.accounts import create_token, create_user
from erp_core.security.principal import Principal
from erp_core.settings import Settings
from erp_reports.compiler import ReportQuery
from erp_reports.exports import csv_chunks, header
from erp_reports.query import (
    ReportRequest,
    check_request,
    columns,
    compile_report,
    merged_rows,
)
from erp_reports.records import RECORD, _with_records
from erp_reports.rollups import refresh_rollups
from erp_reports.settings import ReportSettings

PRODUCTS, CATEGORIES, CUSTOMERS = 500, 20, 5000
SOLD = ("completed", "cancelled")

REPORTS: dict[str, dict[str, Any]] = {
    "sales_by_day_and_channel": {"metrics": ("orders.net_sales",), "dimensions": ("channel",),
                                 "time_grain": "day"},
    "sales_by_month_and_category": {"metrics": ("orders.net_sales",),
                                    "dimensions": ("category",), "time_grain": "month"},
    "top_20_products": {"metrics": ("orders.net_sales",), "dimensions": ("product",),
                        "order_by": "orders.net_sales", "limit": 20},
}


def hand_written(dialect: str, report: str, zone: str) -> str:
    """The same figures as a person would write them for this database."""
    sold = "o.state = 'completed' AND o.currency = 'EUR'"
    joins = "FROM orders_order_line l JOIN orders_order o ON o.id = l.order_id"
    if dialect == "postgresql":
        day = f"to_char(date_trunc('day', timezone('{zone}', o.placed_at)), 'YYYY-MM-DD')"
        month = f"to_char(date_trunc('month', timezone('{zone}', o.placed_at)), 'YYYY-MM-DD')"
    else:  # the benchmark's zone is UTC on SQLite, which has no time-zone database
        day, month = "date(o.placed_at)", "strftime('%Y-%m-01', o.placed_at)"
    if report == "sales_by_day_and_channel":
        return (f"SELECT {day} AS period, o.channel_id, c.name, sum(l.line_net) {joins}"
                f" LEFT JOIN orders_channel c ON c.id = o.channel_id WHERE {sold}"
                f" GROUP BY {day}, o.channel_id, c.name ORDER BY 1")
    if report == "sales_by_month_and_category":
        return (f"SELECT {month} AS period, p.category_id, k.name, sum(l.line_net) {joins}"
                " LEFT JOIN inventory_product p ON p.id = l.product_id"
                " LEFT JOIN inventory_category k ON k.id = p.category_id"
                f" WHERE {sold} GROUP BY {month}, p.category_id, k.name ORDER BY 1")
    return (f"SELECT l.product_id, p.name, sum(l.line_net) AS net {joins}"
            " LEFT JOIN inventory_product p ON p.id = l.product_id"
            f" WHERE {sold} GROUP BY l.product_id, p.name ORDER BY net DESC LIMIT 21")


def make_shop(kernel: Kernel, lines: int) -> None:
    """Master data through the models, orders and lines generated by the database."""
    from erp_crm.customers import Customer
    from erp_inventory.catalogue import Category, Product
    from erp_inventory.warehouses import Warehouse
    from erp_orders.channel import Channel

    with kernel.transaction() as session:
        warehouses = [Warehouse(code=f"W{i}", name=f"Warehouse {i}") for i in range(3)]
        categories = [Category(name=f"Category {i}") for i in range(CATEGORIES)]
        session.add_all(warehouses + categories)
        session.flush()
        session.add_all([Channel(code=code, name=code.title(), kind="manual", settings={},
                                 secrets={}, warehouse_id=warehouses[i].id)
                         for i, code in enumerate(("web", "marketplace", "store"))])
        session.add_all([Product(sku=f"SKU-{i:04d}", name=f"Product {i}",
                                 category_id=categories[i % CATEGORIES].id,
                                 list_price=Decimal(5 + i % 50)) for i in range(PRODUCTS)])
        session.add_all([Customer(kind="person", name=f"Customer {i}",
                                  tier=("gold", "silver", "bronze", None)[i % 4])
                         for i in range(CUSTOMERS)])
    orders = lines // 2
    dialect = kernel.engine.dialect.name
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=365)
    scale = 1 if dialect == "postgresql" else 10_000  # SQLite keeps decimals as integers
    seconds = 365 * 24 * 3600
    with kernel.engine.begin() as connection:
        if dialect == "postgresql":
            series = "generate_series(1::bigint, :orders) AS s(i)"
            placed = "(:start + make_interval(secs => (i::bigint * :seconds / :orders)))"
            series_lines = "generate_series(1::bigint, :lines) AS s(j)"
        else:
            series = ("(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                      " WHERE i < :orders) SELECT i FROM n)")
            placed = ("strftime('%Y-%m-%d %H:%M:%f', :start,"
                      " '+' || (i * :seconds / :orders) || ' seconds')")
            series_lines = ("(WITH RECURSIVE n(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM n"
                            " WHERE j < :lines) SELECT j FROM n)")
        connection.execute(sa.text(
            "INSERT INTO orders_order (channel_id, customer_id, warehouse_id, currency, state,"
            " shipping_amount, subtotal, discount_total, tax_total, total, placed_at, version,"
            " created_at, updated_at)"
            f" SELECT i % 3 + 1, i % {CUSTOMERS} + 1, i % 3 + 1, 'EUR',"
            " CASE WHEN i % 10 = 0 THEN 'cancelled' ELSE 'completed' END, 0, 0, 0, 0, 0,"
            f" {placed}, 1, {placed}, {placed} FROM {series}"),
            {"orders": orders, "start": start if dialect == "postgresql"
             else start.strftime("%Y-%m-%d %H:%M:%S"), "seconds": seconds})
        price = f"(5 + ((j * 7919) % {PRODUCTS}) % 50) * {scale}"
        connection.execute(sa.text(
            "INSERT INTO orders_order_line (order_id, product_id, quantity, unit_price,"
            " discount, tax_rate, line_net, line_tax, line_total, quantity_shipped,"
            " quantity_returned, version, created_at, updated_at)"
            f" SELECT (j - 1) / 2 + 1, (j * 7919) % {PRODUCTS} + 1, (j % 3 + 1) * {scale},"
            f" {price}, 0, 0, (j % 3 + 1) * {price}, 0, (j % 3 + 1) * {price},"
            f" (j % 3 + 1) * {scale}, 0, 1, :now, :now FROM {series_lines}"),
            {"lines": orders * 2, "now": start if dialect == "postgresql"
             else start.strftime("%Y-%m-%d %H:%M:%S")})
        connection.exec_driver_sql("ANALYZE")


def timed(run: Callable[[], Any]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def compare_reports(kernel: Kernel, backend: str, lines: int, repeat: int, zone: str) -> None:
    settings = ReportSettings(time_zone=zone)
    principal = Principal.system()
    for name, body in REPORTS.items():
        query = check_request(kernel, principal, ReportRequest(**body), settings)
        sql = sa.text(hand_written(backend, name, zone))
        with kernel.engine.connect() as connection:
            def compiled(query: ReportQuery = query, connection: Any = connection) -> int:
                sources = compile_report(connection, kernel, principal, query)
                return len(list(merged_rows(connection, sources, query)))

            def by_hand(sql: Any = sql, connection: Any = connection) -> int:
                return len(connection.execute(sql).all())

            compiled_rows, hand_rows = compiled(), by_hand()  # warm-up
            assert compiled_rows == min(hand_rows, 20) if "top" in name else hand_rows, (
                name, compiled_rows, hand_rows)
            ours, theirs = [], []
            for _ in range(repeat):
                ours.append(timed(compiled))
                theirs.append(timed(by_hand))
        mine, hand = statistics.median(ours), statistics.median(theirs)
        print(f"reports backend={backend} lines={lines} report={name} compiled_ms={mine:.1f}"
              f" sql_ms={hand:.1f} ratio_to_sql={mine / hand:.2f}", flush=True)


def dashboard_load(kernel: Kernel, backend: str, lines: int, repeat: int) -> None:
    from litestar.testing import TestClient

    with kernel.transaction() as session:
        create_user(session, "bench", ["admin"])
        _row, token = create_token(session, "bench")
    with TestClient(create_app(kernel)) as client:
        page = client.get("/dashboard/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        client.post("/dashboard/sign-in", data={"csrf": csrf, "token": token})
        first = timed(lambda: client.get("/dashboard").raise_for_status())
        warm = statistics.median(timed(lambda: client.get("/dashboard").raise_for_status())
                                 for _ in range(repeat))
    print(f"reports backend={backend} lines={lines} dashboard first_load_ms={first:.1f}"
          f" warm_ms={warm:.1f}", flush=True)


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def export_memory(kernel: Kernel, backend: str, lines: int) -> None:
    """Stream a CSV of one row per order and product; the peak growth of resident memory."""
    settings = ReportSettings()
    principal = Principal.system()
    checked = check_request(kernel, principal, ReportRequest(metrics=("orders.net_sales",)),
                            settings)
    widened = _with_records(checked.metrics[0])
    query: ReportQuery = ReportQuery(metrics=(widened,), dimensions=(RECORD, "product"),
                                     zone=checked.zone, currency=checked.currency)
    peak, baseline, stop = [0.0], resident_mb(), threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], resident_mb())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    began, rows, size = time.perf_counter(), 0, 0
    titles = header(columns(query), query.zone.key)
    with kernel.engine.connect() as connection:
        def counted() -> Any:
            nonlocal rows
            for row in merged_rows(connection, compile_report(connection, kernel, principal,
                                                              query), query):
                rows += 1
                yield row

        for chunk in csv_chunks(titles, [c["name"] for c in columns(query)], counted()):
            size += len(chunk)
    stop.set()
    watcher.join()
    print(f"reports backend={backend} lines={lines} export=csv rows={rows}"
          f" megabytes={size / 2**20:.1f} seconds={time.perf_counter() - began:.1f}"
          f" memory_growth_mb={max(peak[0] - baseline, 0):.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 lines, 3 repeats")
    parser.add_argument("--database-url", default=os.environ.get("ERP_BENCH_DATABASE_URL"))
    parser.add_argument("--lines", type=int)
    parser.add_argument("--repeat", type=int)
    args = parser.parse_args()
    lines = args.lines or (100_000 if args.quick else 1_000_000)
    repeat = args.repeat or (3 if args.quick else 5)
    with scratch_database(args.database_url) as url:
        kernel = Kernel(Settings.from_env({}, database_url=url))
        kernel.initialise()
        kernel.enable(["orders", "reports"])
        kernel.boot()
        backend = kernel.engine.dialect.name
        began = time.perf_counter()
        make_shop(kernel, lines)
        print(f"# {lines} lines written in {time.perf_counter() - began:.0f} s", flush=True)
        zone = "Europe/Paris" if backend == "postgresql" else "UTC"
        os.environ["ERP_REPORTS_TIME_ZONE"] = zone  # the company's: the daily rollups' zone
        began = time.perf_counter()
        refresh_rollups(kernel)
        built = time.perf_counter() - began
        began = time.perf_counter()
        refresh_rollups(kernel)
        print(f"reports backend={backend} lines={lines} rollups build_s={built:.1f}"
              f" refresh_ms={(time.perf_counter() - began) * 1000:.1f}", flush=True)
        compare_reports(kernel, backend, lines, repeat, zone)
        dashboard_load(kernel, backend, lines, repeat)
        export_memory(kernel, backend, lines)
        kernel.close()


if __name__ == "__main__":
    main()
