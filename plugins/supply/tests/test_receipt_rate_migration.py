"""sup0004: a receipt's rate, kept as a plain NUMERIC(18, 8) before (a float on SQLite),
comes through the upgrade exact, with the receipt's lines still referring to it."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from supply_helpers import API, ok

from erp_core.migrations.runner import schema_transaction

pytestmark = pytest.mark.erp_plugins("supply")


def test_a_receipts_rate_comes_through_the_upgrade_to_exact_rates(
        erp_kernel, erp_client, make_supplier, make_order, make_product, today):
    from erp_supply.receipts import Receipt, ReceiptLine  # once the plugin loaded its models

    ok(erp_client.post("/api/v1/kernel/exchange-rates", json={
        "currency": "USD", "quote_currency": "EUR", "rate_date": today.isoformat(),
        "rate": "0.92345678"}), 201)
    order = make_order(make_supplier("USD"), [(make_product(), "2", "10")])
    receipt = ok(erp_client.post(f"{API}/purchase-orders/{order['id']}/receive", json={
        "lines": [{"line_id": order["lines"][0]["id"], "quantity": "2"}]}), 201)
    with schema_transaction(erp_kernel.engine) as connection:  # back to the old column
        erp_kernel.migrator.downgrade(erp_kernel.branch("supply"), connection, "sup0003")
    with erp_kernel.engine.connect() as connection:
        old = connection.scalar(sa.text("SELECT exchange_rate FROM supply_receipt"))
    assert Decimal(str(old)) == Decimal("0.92345678")

    erp_kernel.initialise()

    with erp_kernel.transaction() as session:
        assert session.get(Receipt, receipt["id"]).exchange_rate == Decimal("0.92345678")
        assert session.scalar(sa.select(sa.func.count()).select_from(ReceiptLine).where(
            ReceiptLine.receipt_id == receipt["id"])) == 1
