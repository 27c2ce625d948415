"""How a shipment and a payment post: everything read and written first, the journals'
numbers taken by the last statements; the data they read as it is now in every process."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from finance_helpers import TODAY

from erp_finance.invoices import Invoice, InvoicePolicy
from erp_finance.ledger import EntryDraft, LineDraft, post_prepared, prepare_entry
from erp_finance.payments import (
    Payment,
    PaymentDraft,
    PaymentMatch,
    auto_match,
    receive_payment,
    record_payment,
)
from erp_finance.taxes import TaxRule
from erp_inventory.catalogue import Category, Product

D = Decimal


@contextlib.contextmanager
def statements(kernel) -> Iterator[list[str]]:
    """The SQL the kernel's engine sends meanwhile, in order."""
    sent: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        sent.append(" ".join(statement.split()))

    sa.event.listen(kernel.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(kernel.engine, "before_cursor_execute", record)


def _invoices(kernel, order_id):
    with kernel.transaction() as session:
        return session.scalars(sa.select(Invoice).where(Invoice.order_id == order_id)
                               .order_by(Invoice.id)).all()


_POSTING_TABLES = ("finance_journal_sequence", "finance_entry", "finance_period_balance")


def test_a_shipment_takes_its_journal_numbers_last_after_writing_its_invoice(books, shop, place,
                                                                            ship):
    order = place([(shop["tea"], "2", "4.20", "0.19"), (shop["mug"], "1", "12.50", "0.19")])
    with statements(books) as sent:
        ship(order["id"])
    numbering = [i for i, sql in enumerate(sent) if "finance_journal_sequence" in sql]
    assert numbering, "the shipment posted nothing"
    first, last = numbering[0], numbering[-1]
    before = sent[:first]
    for table in ("INSERT INTO finance_invoice ", "INSERT INTO finance_invoice_line",
                  "INSERT INTO finance_stock_booking"):
        assert any(sql.startswith(table) for sql in before), table
    # from the first number taken to the last, nothing but the two postings (one
    # statement each on PostgreSQL, a few writes each elsewhere): no read in between
    between = sent[first:last + 1]
    assert all(any(table in sql for table in _POSTING_TABLES)
               or sql.startswith("UPDATE finance_invoice ") for sql in between), between
    if books.engine.dialect.name == "postgresql":
        assert len(between) == 2
    [invoice] = _invoices(books, order["id"])
    assert invoice.number.startswith("SAL/") and invoice.entry_id is not None


def test_an_invoice_reads_its_lines_categories_and_tax_rules_in_one_statement(books, shop,
                                                                            place, ship):
    order = place([(shop["tea"], "2", "4.20", "0.19"), (shop["mug"], "1", "12.50", "0.19")])
    with statements(books) as sent:
        ship(order["id"])
    assert len([sql for sql in sent if "finance_tax_rule" in sql]) == 1
    assert len([sql for sql in sent if "finance_invoice_policy" in sql]) == 1
    assert len([sql for sql in sent if sql.startswith("SELECT orders_order.channel_id")]) <= 1


def test_posting_prepared_entries_takes_the_journals_in_one_order(books):
    with books.transaction() as session:
        from erp_finance.accounts import account_by_code

        bank, sales = account_by_code(session, "1100").id, account_by_code(session, "4100").id
        lines = [LineDraft(bank, debit=D(5)), LineDraft(sales, credit=D(5))]
        stock = prepare_entry(session, EntryDraft("STK", TODAY, lines))
        sale = prepare_entry(session, EntryDraft("SAL", TODAY, lines))
        with statements(books) as sent:
            posted = post_prepared(session, [(stock, None), (sale, None)])
    assert [entry.journal for entry in posted] == ["STK", "SAL"]  # in the order given
    journals = [parameters for parameters in sent if "finance_journal_sequence" in parameters]
    assert journals  # but the sales journal's number is taken first
    assert posted[1].id < posted[0].id


@pytest.fixture
def two_processes(books, shop, place, ship, erp_kernel_factory):
    """This process, which keeps what it caches for as long as a test runs, having
    shipped one order already, and another process on the same database."""
    books.committed.max_age = 3600
    with books.transaction() as session:
        category = Category(name="Tea", version=1)
        session.add(category)
        session.flush()
        session.get(Product, shop["tea"]).category_id = category.id
        session.add(TaxRule(name="Tea in France", rate=D("0.10"), category_id=category.id,
                            country="FR", version=1))
    with books.context() as ctx:
        ctx.records("finance.invoice_policy").create(
            {"channel_id": shop["channel"], "invoice_on": "shipment", "due_days": 30})
    order = place([(shop["tea"], "5", "7.20", "0.20")])
    ship(order["id"])
    [invoice] = _invoices(books, order["id"])
    assert invoice.tax == D("3.60")
    return books, erp_kernel_factory("finance")


def test_a_tax_rule_another_process_changed_is_used_by_the_next_invoice(two_processes, shop,
                                                                        place, ship):
    here, other = two_processes
    with other.transaction() as session:
        session.execute(sa.update(TaxRule).values(rate=D("0.055")))
    order = place([(shop["tea"], "5", "7.20", "0.20")])
    ship(order["id"])
    [invoice] = _invoices(here, order["id"])
    assert (invoice.untaxed, invoice.tax) == (D("36.00"), D("1.98"))
    with other.transaction() as session:
        session.execute(sa.update(TaxRule).values(active=False))
    order = place([(shop["tea"], "5", "7.20", "0.20")])
    ship(order["id"])
    [invoice] = _invoices(here, order["id"])
    assert invoice.tax == D("7.20")  # no rule: the order's own 20 %


def test_an_invoice_policy_another_process_changed_is_used_by_the_next_shipment(
        two_processes, shop, place, ship):
    here, other = two_processes
    with other.transaction() as session:
        session.execute(sa.update(InvoicePolicy).values(due_days=7))
    order = place([(shop["mug"], "1", "12.50", "0.19")])
    ship(order["id"])
    [invoice] = _invoices(here, order["id"])
    assert invoice.due_date - invoice.date == dt.timedelta(days=7)
    with other.transaction() as session:
        session.execute(sa.update(InvoicePolicy).values(invoice_on="confirmation"))
    order = place([(shop["mug"], "1", "12.50", "0.19")], confirm=False)
    with here.context() as ctx:
        ctx.fire("orders.order", order["id"], "confirm")
    assert len(_invoices(here, order["id"])) == 1  # invoiced on confirmation
    ship(order["id"])
    assert len(_invoices(here, order["id"])) == 1  # and not again on shipment


def test_matching_a_payment_reads_its_invoice_once(books, shop, place, ship):
    order = place([(shop["mug"], "1", "12.50", "0.19")])
    ship(order["id"])
    with books.transaction() as session:
        payment = record_payment(session, PaymentDraft(
            shop["customer"], D(order["total"]), "EUR", TODAY, reference=order["number"]))
        with statements(books) as sent:
            [matched] = auto_match(session, payment.id)
        assert matched.amount == D(order["total"])
    assert len([sql for sql in sent if sql.startswith("SELECT")
                and "FROM finance_invoice" in sql]) == 1
    [invoice] = _invoices(books, order["id"])
    assert (invoice.residual, invoice.state) == (D(0), "paid")


def test_a_payment_is_matched_before_it_takes_its_journal_number(books, shop, place, ship):
    order = place([(shop["mug"], "1", "12.50", "0.19")])
    ship(order["id"])
    with books.transaction() as session, statements(books) as sent:
        payment, [matched] = receive_payment(session, PaymentDraft(
            shop["customer"], D(order["total"]), "EUR", TODAY, reference=order["number"]),
            match=True)
        assert payment.number.startswith("BNK/") and payment.entry_id is not None
    numbering = [i for i, sql in enumerate(sent) if "finance_journal_sequence" in sql]
    before, after = sent[:numbering[0]], sent[numbering[-1] + 1:]
    assert any(sql.startswith("INSERT INTO finance_payment_match") for sql in before)
    assert any(sql.startswith("UPDATE finance_invoice ") for sql in before)
    # after the number: the rest of the posting only (one statement on PostgreSQL)
    assert all(any(table in sql for table in _POSTING_TABLES)
               or sql.startswith("UPDATE finance_payment SET number") for sql in after), after
    [invoice] = _invoices(books, order["id"])
    assert invoice.state == "paid"
    with books.transaction() as session:
        stored = session.get(Payment, payment.id)
        assert (stored.number, stored.entry_id) == (payment.number, payment.entry_id)
        assert stored.unmatched == D(0)
        assert session.get(PaymentMatch, matched.id).invoice_id == invoice.id


def test_postgresql_refuses_to_commit_a_payment_without_its_entry(books, shop):
    if books.engine.dialect.name != "postgresql":
        pytest.skip("the check at commit is PostgreSQL's")
    with pytest.raises(sa.exc.IntegrityError, match="has no posted entry"), \
            books.transaction() as session:
        session.add(Payment(direction="received", customer_id=shop["customer"],
                            amount=D(1), currency="EUR", rate=D(1), date=TODAY,
                            account_id=1, unmatched=D(1), version=1))
