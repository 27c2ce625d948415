"""``bench/order_pipeline.py`` compares like with like: its bare mode, written by hand,
leaves the same books as the product does for the same orders (every account's debits
and credits, the entries of each journal, the invoices, payments and matches), and its
check after the run sees every order invoiced and paid. Without that, ``ratio_to_bare``
would compare the product with less (or other) work than it does."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
import order_pipeline

from erp_core.kernel import Kernel

TABLES = ("orders_order", "orders_order_line", "inventory_move", "finance_stock_booking",
          "finance_entry", "finance_entry_line", "finance_invoice", "finance_invoice_line",
          "finance_payment", "finance_payment_match", "crm_purchase")


def _books(kernel: Kernel) -> dict[str, object]:
    with kernel.engine.connect() as connection:
        return {
            "rows": {table: connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
                     for table in TABLES},
            "balances": {code: (debit, credit) for code, debit, credit in connection.execute(
                sa.text("SELECT a.code, sum(b.debit), sum(b.credit) FROM finance_period_balance b"
                        " JOIN finance_account a ON a.id = b.account_id GROUP BY a.code"))},
            "entries": dict(connection.execute(sa.text(
                "SELECT j.code, count(*) FROM finance_entry e"
                " JOIN finance_journal j ON j.id = e.journal_id GROUP BY j.code")).all()),
            "invoices": connection.execute(sa.text(
                "SELECT total, tax, residual, state FROM finance_invoice ORDER BY id")).all(),
        }


def _added(before: dict[str, object], after: dict[str, object]) -> dict[str, object]:
    """What a run added to the books."""
    def minus(new: dict, old: dict) -> dict:
        return {key: (tuple(a - b for a, b in zip(value, old.get(key, (0, 0)), strict=True))
                      if isinstance(value, tuple) else value - old.get(key, 0))
                for key, value in new.items()}

    return {"rows": minus(after["rows"], before["rows"]),
            "balances": minus(after["balances"], before["balances"]),
            "entries": minus(after["entries"], before["entries"]),
            "invoices": after["invoices"][len(before["invoices"]):]}


def test_the_bare_mode_leaves_the_books_the_product_leaves(
        make_kernel: Callable[..., Kernel], database_url: str) -> None:
    kernel = make_kernel(pool_size=4)
    setup = order_pipeline.prepare(kernel)
    orders = 3
    added = {}
    for mode in ("bare", "inprocess"):
        before = _books(kernel)
        order_pipeline.RUNNERS[mode](kernel, setup, orders, 1, database_url)
        added[mode] = _added(before, _books(kernel))

    each = order_pipeline.warm_up_orders(1) + orders
    assert added["bare"]["rows"] == added["inprocess"]["rows"]
    assert added["inprocess"]["rows"]["finance_invoice"] == each
    assert added["inprocess"]["rows"]["finance_payment_match"] == each
    assert added["bare"]["entries"] == added["inprocess"]["entries"] == {
        "STK": each, "SAL": each, "BNK": each}
    assert added["bare"]["balances"] == added["inprocess"]["balances"]
    assert {state for *_, state in added["inprocess"]["invoices"]} == {"paid"}
    assert added["bare"]["invoices"] == added["inprocess"]["invoices"]
    assert order_pipeline.billing(kernel) == (2 * each, 2 * each, 2 * each)
