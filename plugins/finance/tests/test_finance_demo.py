"""The finance demo data ``erp demo`` loads after the other plugins'."""

from __future__ import annotations

import sqlalchemy as sa
from finance_helpers import TODAY, stock_in_the_books

from erp_finance import statements
from erp_finance.integrity import verify_chains
from erp_finance.invoices import Invoice, InvoiceState
from erp_finance.stock import inventory_valuation


def test_the_demo_books_have_invoices_payments_and_whole_chains(kernel):
    with kernel.transaction() as session:
        kernel.contribute("erp_load_demo_data", session=session, kernel=kernel)
    with kernel.transaction() as session:
        states = dict(session.execute(sa.select(Invoice.state, sa.func.count())
                                      .group_by(Invoice.state)).all())
        assert states[InvoiceState.PAID] > 0 and states[InvoiceState.OPEN] > 0
        assert verify_chains(session).ok
        sheet = statements.balance_sheet(session, TODAY)
        assert sheet["balanced"] and sheet["total_assets"] > 0
        assert stock_in_the_books(session) == inventory_valuation(session)
