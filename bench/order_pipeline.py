"""Orders per second through the whole order flow that exists, and the CPU each costs.

Each order goes through place (3 lines) -> confirm (review rules, stock reservation) ->
ship (which, with the books set up, invoices what was shipped by the channel's policy and
posts the sale: receivable against revenue and tax, and the cost of goods sold against
stock) -> complete -> the customer's payment of the order, recorded and matched with its
invoice by the order's number; each step its own transaction as a client would send it.
Three modes: ``inprocess`` calls the services from worker threads; ``http`` starts a real
server (``erp serve --workers N``) and sends the same five requests per order over HTTP
from concurrent clients (keep-alive connections of a lean client, see ``_http.py``);
``bare`` is the baseline: the same transactions on the same tables written directly in
SQLAlchemy Core, without the product (see ``_bare_pipeline.py``), so the other figures
can be read as a ratio to what the stack itself does on this machine. ``inprocess`` and
``bare`` run once in one process (its threads share one interpreter lock) and once in as
many processes as ``--processes`` says (default 1 and 2: one per core here), each
process with its own kernel and connections, as a server's workers are.

Each line also says where the CPU goes, in milliseconds per order (medians): the
product's processes (``cpu_ms``: the benchmark's own in ``inprocess`` and ``bare``, the
server's in ``http``), the HTTP clients' (``client_cpu_ms``) and PostgreSQL's
(``db_cpu_ms``, when it runs on this machine), and the orders per second the machine's
cores could give at that cost if nothing else held them back
(``cpu_bound_orders_per_s``). The configurations run in rounds (``--runs``), one of each
per round, and ``ratio_to_bare`` is the median of each round's ratio, so a ratio compares
runs made under the same load of a shared machine. After the clock stops, every order of
the run (warm-up included) is checked: ``checked`` orders, of which ``invoiced`` have a
posted invoice and ``paid`` a paid one, summed over the runs; the three are equal in a
sound run. Prints one line per configuration, once every round is done:

    order_pipeline backend=postgresql mode=inprocess processes=2 workers=8 orders=400 \
        runs=3 orders_per_s=91.6 queries_per_order=30.0 ratio_to_bare=0.61 \
        cpu_ms_per_order=12.56 db_cpu_ms_per_order=7.73 cpu_bound_orders_per_s=99 \
        checked=1360 invoiced=1360 paid=1360

    python bench/order_pipeline.py [--quick] [--database-url URL]
        [--mode inprocess|http|bare|all] [--processes 1,2] [--runs N] [--orders N]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _bare_pipeline import ConnectionPerThread, order_flow
from _clocks import Reading, Span, process_tree_cpu
from _database import scratch_database
from _http import HttpStatusError, JsonClient

from erp_core.kernel import Kernel
from erp_core.security.accounts import create_token, create_user
from erp_core.settings import Settings
from erp_finance.accounts import RoleAccount
from erp_finance.charts import setup_books
from erp_finance.invoices import Invoice, InvoiceKind, InvoiceState
from erp_finance.journals import Journal
from erp_finance.ledger import Entry
from erp_finance.payments import PaymentDraft, receive_payment
from erp_finance.periods import FiscalYear, Period
from erp_finance.stock import book_pending_moves
from erp_inventory.catalogue import Product
from erp_inventory.movements import receive
from erp_inventory.warehouses import (
    LocationKind,
    create_warehouse,
    virtual_location,
    warehouse_location,
)
from erp_orders.order import Order
from erp_orders.placing import LineRequest, OrderRequest, place
from erp_sdk import Principal, utcnow

PRODUCTS = 60
TAX_RATE = "0.20"
"""The tax rate of every order line (the channel's, as a shop sends it)."""


def prepare(kernel: Kernel, books: bool = True) -> dict[str, object]:
    """A warehouse stocked with the products, a web channel, a customer with an address,
    and an admin's token for the HTTP mode; with ``books`` (the order pipeline), finance
    enabled too, the books set up (the generic chart, this year) with the receipts
    booked, and the channel invoicing on shipment."""
    kernel.initialise()
    kernel.enable(["finance" if books else "orders"])  # finance: and orders, inventory, crm
    kernel.boot()
    with kernel.context(Principal.system("bench")) as ctx:
        if books:
            setup_books(ctx.session, "generic", currency="EUR", year=utcnow().year)
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
        if books:
            ctx.records("finance.invoice_policy").create(
                {"channel_id": channel, "invoice_on": "shipment", "due_days": 30})
            book_pending_moves(ctx.session)  # the receipts: the stock accounts hold the goods
        customer = ctx.records("crm.customer").create({"name": "Bench", "kind": "person"})["id"]
        address = ctx.records("crm.address").create(  # confirming needs a shipping address
            {"customer_id": customer, "line1": "1 Bench St", "city": "Paris",
             "country": "FR", "postal_code": "75001"})["id"]
        ctx.records("crm.customer").update(customer, {"default_shipping_address_id": address})
        for rule in ("first_order", "address_mismatch"):
            ctx.records("orders.review_policy").create({"rule": rule, "enabled": False})
        create_user(ctx.session, "bench", ["admin"])
        token = create_token(ctx.session, "bench")[1]
        storage = warehouse_location(ctx.session, warehouse).id
        customer_location = virtual_location(ctx.session, LocationKind.CUSTOMER).id
    return {"warehouse": warehouse, "products": products, "channel": channel,
            "customer": customer, "token": token, "storage_location": storage,
            "customer_location": customer_location, "tax_rate": TAX_RATE,
            **(books_of(kernel) if books else {})}


def books_of(kernel: Kernel) -> dict[str, object]:
    """What the bare mode writes its postings with, read once: the account of each role,
    the journals by code, and today's period with its fiscal year."""
    with kernel.engine.connect() as connection:
        roles = dict(connection.execute(
            sa.select(RoleAccount.role, RoleAccount.account_id)).all())
        journals = dict(connection.execute(sa.select(Journal.code, Journal.id)).all())
        period = connection.execute(
            sa.select(Period.id, Period.fiscal_year_id, FiscalYear.name)
            .join(FiscalYear, FiscalYear.id == Period.fiscal_year_id)
            .where(Period.start_date <= utcnow().date(), Period.end_date >= utcnow().date())
        ).one()
    return {"roles": roles, "journals": journals, "period": period.id,
            "fiscal_year": period.fiscal_year_id, "fiscal_year_name": period.name}


def lines_for(number: int, products: list[int]) -> list[tuple[int, str]]:
    return [(products[(number * 3 + k) % len(products)], str(1 + k)) for k in range(3)]


def run_threads(one: Callable[[int], None], orders: int, workers: int, database: str,
                start: Callable[[], None] = lambda: None) -> tuple[Reading, Reading]:
    """Send ``orders`` orders from ``workers`` threads each taking the next order number,
    after a warm-up of ``warm_up_orders(workers)`` sent the same way; ``start`` is called
    just before the clock starts (processes wait there for each other). The clocks when
    it started and ended."""
    warm_up = warm_up_orders(workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # the same threads for both
        send_concurrently(pool, one, range(warm_up), workers)
        start()
        first = Reading.now(database)
        send_concurrently(pool, one, range(warm_up, warm_up + orders), workers)
        return first, Reading.now(database)


def warm_up_orders(workers: int) -> int:
    """Orders sent before the clock starts, as many at a time as in the run: every
    connection of the pools is opened, and every statement compiled and prepared on it
    (psycopg prepares a statement on its sixth use on a connection), as in a server that
    has been up for a while."""
    return 10 * workers


def send_concurrently(pool: ThreadPoolExecutor, one: Callable[[int], None], numbers: range,
                      workers: int) -> None:
    """``one(number)`` for every number, from ``workers`` threads taking the next one."""
    counter = iter(numbers)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            one(number)

    for future in [pool.submit(work) for _ in range(workers)]:
        future.result()


def run_counted(kernel: Kernel, one: Callable[[int], None], orders: int, workers: int,
                database: str, begin: Callable[[], None]) -> Span:
    """``run_threads`` counting the statements the kernel's engine sends per order while
    the clock runs."""
    counter = itertools.count()
    sa.event.listen(kernel.engine, "before_cursor_execute", lambda *a: next(counter))
    counted: list[int] = []

    def start() -> None:
        counted.append(next(counter))
        begin()

    started, ended = run_threads(one, orders, workers, database, start)
    return Span.between(orders, started, ended, (next(counter) - counted[0] - 1) / orders)


def run_inprocess(kernel: Kernel, setup: dict, orders: int, workers: int, database: str,
                  begin: Callable[[], None] = lambda: None) -> Span:
    system = Principal.system("bench")

    def one(number: int) -> None:
        with kernel.context(system) as ctx:
            order = place(ctx, OrderRequest(
                channel_id=setup["channel"], customer_id=setup["customer"],
                lines=[LineRequest(p, Decimal(q), tax_rate=Decimal(TAX_RATE))
                       for p, q in lines_for(number, setup["products"])])).record
        for transition in ("confirm", "ship", "complete"):
            with kernel.context(system) as ctx:
                ctx.fire("orders.order", order["id"], transition)
        with kernel.context(system) as ctx:  # what POST /finance/payments/record does
            payment, _ = receive_payment(ctx.session, PaymentDraft(
                setup["customer"], Decimal(order["total"]), order["currency"], utcnow().date(),
                reference=order["number"]), match=True)
            ctx.audit("finance.payment", payment.id, "record", None, {"number": payment.number})

    return run_counted(kernel, one, orders, workers, database, begin)


def run_bare(kernel: Kernel, setup: dict, orders: int, workers: int, database: str,
             begin: Callable[[], None] = lambda: None) -> Span:
    flow = order_flow(kernel.engine, setup)
    connection = ConnectionPerThread(kernel.engine)
    try:
        return run_counted(kernel, lambda n: flow(n, lines_for(n, setup["products"]),
                                                  connection()),
                           orders, workers, database, begin)
    finally:
        connection.close()


def run_http(database: str, setup: dict, orders: int, workers: int,
             server_workers: int) -> Span:
    with tempfile.TemporaryFile(mode="w+") as log:  # the server's output, shown on a failure
        return _run_http(database, setup, orders, workers, server_workers, log)


def _run_http(database: str, setup: dict, orders: int, workers: int,
              server_workers: int, log: Any) -> Span:
    # A pool per server worker as large as the clients, so no connection is opened or
    # closed while the clock runs, whichever worker the clients land on.
    env = {**os.environ, "ERP_DATABASE_URL": database, "ERP_DATABASE_POOL_SIZE": str(workers)}
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [sys.executable, "-m", "erp_core", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(server_workers)], env=env, stdout=log, stderr=subprocess.STDOUT,
        text=True)
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
        local = threading.local()
        clients: list[JsonClient] = []

        def one(number: int) -> None:
            if not hasattr(local, "client"):  # one keep-alive connection per client thread
                local.client = JsonClient("127.0.0.1", port, headers)
                clients.append(local.client)
            client = local.client
            body = {"channel_id": setup["channel"], "customer_id": setup["customer"],
                    "lines": [{"product_id": p, "quantity": q, "tax_rate": TAX_RATE}
                              for p, q in lines_for(number, setup["products"])]}
            order = client.post("/api/v1/orders/place", body)
            for transition in ("confirm", "ship", "complete"):
                client.post(f"/api/v1/orders/orders/{order['id']}/{transition}")
            payment = client.post("/api/v1/finance/payments/record", {
                "customer_id": setup["customer"], "amount": order["total"],
                "currency": order["currency"], "date": utcnow().date().isoformat(),
                "reference": order["number"]})
            if not payment["matches"]:
                raise RuntimeError(f"the payment of {order['number']} matched no invoice")

        server_cpu: list[float] = []
        try:
            started, ended = run_threads(
                one, orders, workers, database,
                lambda: server_cpu.append(process_tree_cpu(server.pid)))
            server_cpu.append(process_tree_cpu(server.pid))
        except HttpStatusError:
            log.seek(0)
            print(log.read()[-6000:], file=sys.stderr)
            raise
        finally:
            for client in clients:
                client.close()
        return Span(orders, started, ended, server_cpu[1] - server_cpu[0],
                    ended.cpu - started.cpu)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


RUNNERS = {"inprocess": run_inprocess, "bare": run_bare}


def one_process(mode: str, database: str, setup: dict, orders: int, workers: int,
                barrier: Any, results: Any) -> None:
    """A process's share of a run: its own kernel on the prepared database, its own
    threads; the processes start the clock together, after their warm-up."""
    kernel = Kernel(Settings.from_env({}, database_url=database, pool_size=20)).boot()
    try:
        results.put(RUNNERS[mode](kernel, setup, orders, workers, database, barrier.wait))
    finally:
        kernel.close()


def run_processes(mode: str, database: str, setup: dict, orders: int, workers: int,
                  processes: int) -> Span:
    """``processes`` processes together (from the first start to the last finish), each
    sending ``orders / processes`` orders from ``workers`` threads."""
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(processes), spawn.Queue()
    share = orders // processes
    children = [spawn.Process(target=one_process, args=(mode, database, setup, share,
                                                        workers, barrier, results))
                for _ in range(processes)]
    for child in children:
        child.start()
    outcomes: list[Span] = []
    while len(outcomes) < processes:
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            failed = [child.exitcode for child in children if child.exitcode]
            if failed:
                raise RuntimeError(f"a benchmark process failed (exit {failed[0]})") from None
    for child in children:
        child.join()
        if child.exitcode:
            raise RuntimeError(f"a benchmark process failed (exit {child.exitcode})")
    return Span.together(outcomes)


def measure(mode: str, database_url: str, orders: int, processes: int
            ) -> tuple[Span, Billing]:
    """One run of one mode on a scratch database, and what its orders' billing came to."""
    with scratch_database(database_url) as database:
        kernel = Kernel(Settings.from_env({}, database_url=database, pool_size=20))
        setup = prepare(kernel)
        try:
            if mode in RUNNERS and processes == 1:
                span = RUNNERS[mode](kernel, setup, orders, WORKERS[mode], database)
            elif mode in RUNNERS:
                span = run_processes(mode, database, setup, orders,
                                     WORKERS[mode] // processes, processes)
            else:
                span = run_http(database, setup, orders, workers=WORKERS[mode],
                                server_workers=2)
            return span, billing(kernel)
        finally:
            kernel.close()


class Billing(NamedTuple):
    """Orders of a run (warm-up included), and how many of them have a posted invoice
    and how many a paid one."""

    checked: int
    invoiced: int
    paid: int


def billing(kernel: Kernel) -> Billing:
    """Count, once the clock has stopped, the orders that were invoiced and paid: an
    invoice of the order whose journal entry exists, paid when nothing is left open."""
    posted = (sa.select(Invoice.order_id).join(Entry, Entry.id == Invoice.entry_id)
              .where(Invoice.kind == InvoiceKind.INVOICE))
    paid = posted.where(Invoice.state == InvoiceState.PAID, Invoice.residual == 0)
    with kernel.engine.connect() as connection:
        def count(ids: sa.Select) -> int:
            return connection.scalar(sa.select(sa.func.count()).select_from(
                sa.select(Order.id).where(Order.id.in_(ids)).subquery()))
        return Billing(connection.scalar(sa.select(sa.func.count()).select_from(Order)),
                       count(posted), count(paid))


WORKERS = {"bare": 8, "inprocess": 8, "http": 16}
"""Threads sending orders (in all, shared among the processes)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mode", choices=["bare", "inprocess", "http", "all"], default="all")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--processes", default="1,2",
                        help="processes for the bare and inprocess modes, one configuration"
                             " each (default 1,2: one process, and one per core)")
    args = parser.parse_args()
    backend = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    runs = args.runs or (1 if args.quick else 3)
    orders = args.orders or (150 if args.quick else 400)
    modes = ["bare", "inprocess", "http"] if args.mode == "all" else [args.mode]
    configurations = [(mode, int(p)) for mode in modes
                      for p in (args.processes.split(",") if mode in RUNNERS else ["1"])]
    # Round after round of every configuration, so that each ratio compares runs made
    # minutes apart at most, under the same load of a shared machine.
    outcomes: dict[tuple[str, int], list[tuple[Span, Billing]]] = {c: [] for c in configurations}
    for _ in range(runs):
        for mode, processes in configurations:
            outcomes[mode, processes].append(measure(mode, args.database_url, orders, processes))
    for mode, processes in configurations:
        spans = [span for span, _ in outcomes[mode, processes]]
        per_s = statistics.median(s.units / s.seconds for s in spans)
        line = (f"order_pipeline backend={backend} mode={mode} processes={processes}"
                f" workers={WORKERS[mode]} orders={orders} runs={runs} orders_per_s={per_s:.1f}")
        if mode != "http":
            line += f" queries_per_order={statistics.median(s.queries for s in spans):.1f}"
        if mode != "bare" and ("bare", processes) in outcomes:
            line += f" ratio_to_bare={ratio(spans, outcomes['bare', processes]):.2f}"
        checked = Billing(*(sum(column) for column in zip(
            *(b for _, b in outcomes[mode, processes]), strict=True)))
        print(line + cpu_budget(spans, in_process_database=backend == "sqlite")
              + f" checked={checked.checked} invoiced={checked.invoiced} paid={checked.paid}",
              flush=True)


def ratio(spans: list[Span], bare: list[tuple[Span, Billing]]) -> float:
    """The median over the rounds of a round's orders per second over the bare mode's in
    the same round."""
    return statistics.median((span.units / span.seconds) / (base.units / base.seconds)
                             for span, (base, _) in zip(spans, bare, strict=True))


def cpu_budget(spans: list[Span], in_process_database: bool) -> str:
    """The CPU milliseconds per order of each party (medians), and the orders per second
    the machine's cores could give at that cost if nothing else held them back."""
    def per_order(seconds: list[float | None]) -> float | None:
        if any(s is None for s in seconds):
            return None
        return statistics.median(s / span.units * 1000  # type: ignore[operator]
                                 for s, span in zip(seconds, spans, strict=True))

    parts = {"cpu_ms_per_order": per_order([s.cpu for s in spans]),
             "client_cpu_ms_per_order": per_order([s.client_cpu for s in spans]),
             "db_cpu_ms_per_order": per_order([s.database_cpu for s in spans])}
    text = "".join(f" {name}={value:.2f}" for name, value in parts.items() if value is not None)
    if parts["db_cpu_ms_per_order"] is not None or in_process_database:
        total = sum(value for value in parts.values() if value is not None)
        text += f" cpu_bound_orders_per_s={CORES * 1000 / total:.0f}"
    return text


CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
"""The cores this benchmark, its server and the database share."""

if __name__ == "__main__":
    main()
