"""Finance: invoices posted per second, and statements over a year of journal lines.

Each configuration gets a fresh database with finance (and orders, inventory, crm)
enabled and the generic chart set up.

- Posting: posters (threads, one connection each) post invoices of 5 lines, one
  transaction per invoice, through the same service the order workflow uses (numbered,
  hash chained, per-period balances kept). Afterwards the journal is checked: gaps in
  the numbers and entries that do not balance (both must be 0).
- Statements: a year of journal lines (1,000,000; 100,000 with --quick) is written in
  bulk (entries of 5 balanced lines spread over the year, with their per-period
  balances, as posting would leave them), then the trial balance, the profit and loss
  and the balance sheet for the year are timed, each against a hand-written
  ``GROUP BY`` over the lines for the same year in the same run (``ratio_to_sql``: the
  statement's time over the query's; at most 1 is the target).

    python bench/finance.py [--quick] [--database-url URL]

prints one line per configuration:
    finance_posting backend=postgresql posters=8 invoices_per_s=212.4 gaps=0 unbalanced=0
    finance_statement backend=postgresql statement=trial_balance lines=1000000 ms=12.1
        sql_ms=310.2 ratio_to_sql=0.04   (on one line)
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database

from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_finance import statements
from erp_finance.accounts import AccountRole, role_accounts
from erp_finance.charts import setup_books
from erp_finance.invoices import DraftLine, InvoiceKind, post_invoice
from erp_finance.ledger import Entry, EntryLine
from erp_sdk import Principal

YEAR = dt.datetime.now(dt.UTC).date().year
FIRST, LAST = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)


def _kernel(database: str, pool: int) -> Kernel:
    kernel = Kernel(Settings.from_env({}, database_url=database, pool_size=pool + 2))
    kernel.initialise()
    kernel.enable(["finance"])
    kernel.boot()
    with kernel.context(Principal.system("bench")) as ctx:
        setup_books(ctx.session, "generic", currency="EUR", year=YEAR)
        ctx.records("crm.customer").create({"name": "Bench buyer", "kind": "company"})
    return kernel


def run_posting(url: str, posters: int, invoices: int) -> tuple[float, int, int]:
    with scratch_database(url) as database:
        kernel = _kernel(database, posters)
        with kernel.transaction() as session:
            roles = role_accounts(session)
        lines = [DraftLine(roles[AccountRole.SALES], Decimal(1), Decimal(f"{10 + i}.00"),
                           Decimal(f"{i + 1}.90"), Decimal("0.19"),
                           roles[AccountRole.OUTPUT_TAX], f"item {i}") for i in range(5)]
        today = dt.datetime.now(dt.UTC).date()
        each = invoices // posters
        start = threading.Barrier(posters + 1)

        def post() -> None:
            start.wait()
            for _ in range(each):
                with kernel.transaction() as session:
                    post_invoice(session, InvoiceKind.INVOICE, lines, customer_id=1,
                                 currency="EUR", day=today)

        threads = [threading.Thread(target=post) for _ in range(posters)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        with kernel.transaction() as session:
            numbers = sorted(session.scalars(sa.select(Entry.number)))
            unbalanced = session.scalar(sa.select(sa.func.count()).select_from(
                sa.select(EntryLine.entry_id).group_by(EntryLine.entry_id).having(
                    sa.func.sum(EntryLine.debit) != sa.func.sum(EntryLine.credit)).subquery()))
        kernel.close()
        gaps = len(set(range(1, each * posters + 1)) ^ set(numbers))
        return each * posters / elapsed, gaps, unbalanced


def _series(dialect: str, count: int) -> str:
    if dialect == "postgresql":
        return f"SELECT g FROM generate_series(1, {count}) AS s(g)"
    return (f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g <"
            f" {count}) SELECT g FROM s")


LINES = (  # role, debit, credit: a sale of 100 + 19 tax, and its cost of 60
    (AccountRole.RECEIVABLE, 119, 0), (AccountRole.SALES, 0, 100),
    (AccountRole.OUTPUT_TAX, 0, 19), (AccountRole.COST_OF_GOODS_SOLD, 60, 0),
    (AccountRole.STOCK, 0, 60))


def write_year_of_lines(kernel: Kernel, lines: int) -> None:
    """Entries of 5 balanced lines, one day of the year after another, written in bulk
    with the per-period balances posting would have left (the guards of posted entries
    are PostgreSQL triggers that fire per row: bulk writing sets them aside)."""
    entries = lines // len(LINES)
    with kernel.transaction() as session:
        dialect = session.get_bind().dialect.name
        scale = 10_000 if dialect == "sqlite" else 1  # SQLite keeps money as scaled integers
        roles = role_accounts(session)
        journal = session.scalar(sa.text("SELECT id FROM finance_journal WHERE code = 'SAL'"))
        year = session.scalar(sa.text("SELECT id FROM finance_fiscal_year"))
        if dialect == "postgresql":
            session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        day = ("(CAST(:first AS date) + (g % 365))" if dialect == "postgresql"
               else "date(:first, '+' || (g % 365) || ' days')")
        session.execute(sa.text(
            f"INSERT INTO finance_entry (id, journal_id, fiscal_year_id, period_id, number, name,"
            f" date, currency, previous_hash, hash, posted_at)"
            f" SELECT g + 1000000, :journal, :year, (SELECT p.id FROM finance_period p WHERE"
            f" p.start_date <= {day} AND p.end_date >= {day}), g + 1000000, 'BENCH/' || g,"
            f" {day}, 'EUR', '', '', :now FROM ({_series(dialect, entries)}) AS series"),
            {"journal": journal, "year": year, "first": FIRST.isoformat(),
             "now": dt.datetime.now(dt.UTC).isoformat()})
        for sequence, (role, debit, credit) in enumerate(LINES):
            session.execute(sa.text(
                "INSERT INTO finance_entry_line (entry_id, sequence, account_id, date, period_id,"
                " debit, credit, currency, amount_currency, order_id)"
                " SELECT id, :sequence, :account, date, period_id, :debit, :credit, 'EUR',"
                " :amount, id FROM finance_entry WHERE name LIKE 'BENCH/%'"),
                {"sequence": sequence, "account": roles[role], "debit": debit * scale,
                 "credit": credit * scale, "amount": (debit - credit) * scale})
        session.execute(sa.text(
            "INSERT INTO finance_period_balance (account_id, period_id, debit, credit)"
            " SELECT account_id, period_id, sum(debit), sum(credit) FROM finance_entry_line"
            " GROUP BY account_id, period_id"))
    with kernel.engine.connect() as connection:
        if dialect == "postgresql":
            connection.execute(sa.text("ANALYZE"))


HAND_WRITTEN = sa.text(
    "SELECT account_id, sum(debit), sum(credit) FROM finance_entry_line"
    " WHERE date >= :first AND date <= :last GROUP BY account_id")


def _best_ms(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return min(times)


def run_statements(url: str, lines: int, runs: int) -> list[tuple[str, float, float]]:
    with scratch_database(url) as database:
        kernel = _kernel(database, 1)
        write_year_of_lines(kernel, lines)
        results = []
        with kernel.transaction() as session:
            trial = statements.trial_balance(session, FIRST, LAST)
            assert trial["totals"]["closing"] == 0, trial["totals"]
            sql_ms = _best_ms(lambda: session.execute(
                HAND_WRITTEN, {"first": FIRST, "last": LAST}).all(), runs)
            for name, work in (
                    ("trial_balance", lambda: statements.trial_balance(session, FIRST, LAST)),
                    ("profit_and_loss", lambda: statements.profit_and_loss(session, FIRST,
                                                                           LAST)),
                    ("balance_sheet", lambda: statements.balance_sheet(session, LAST))):
                results.append((name, _best_ms(work, runs), sql_ms))
        kernel.close()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite://",
                        help="sqlite:// (a temporary file) or a PostgreSQL URL")
    parser.add_argument("--quick", action="store_true", help="fewer invoices and lines")
    args = parser.parse_args()
    backend = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    invoices = 160 if args.quick else 1600
    runs = 1 if args.quick else 3
    for posters in (1, 8):
        results = [run_posting(args.database_url, posters, invoices) for _ in range(runs)]
        print(f"finance_posting backend={backend} posters={posters}"
              f" invoices_per_s={statistics.median(r[0] for r in results):.1f}"
              f" gaps={max(r[1] for r in results)} unbalanced={max(r[2] for r in results)}",
              flush=True)
    lines = 100_000 if args.quick else 1_000_000
    for name, ms, sql_ms in run_statements(args.database_url, lines, 3 if args.quick else 5):
        print(f"finance_statement backend={backend} statement={name} lines={lines}"
              f" ms={ms:.1f} sql_ms={sql_ms:.1f} ratio_to_sql={ms / sql_ms:.2f}", flush=True)


if __name__ == "__main__":
    main()
