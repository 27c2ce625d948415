"""Eight posters at once on PostgreSQL: numbers without gaps or duplicates, chains intact,
and the database itself refusing an unbalanced entry at commit."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from finance_helpers import TODAY

from erp_finance.accounts import account_by_code
from erp_finance.integrity import verify_chains
from erp_finance.journals import Journal
from erp_finance.ledger import Entry, EntryDraft, EntryLine, LineDraft, post_entry

pytestmark = pytest.mark.postgres

POSTERS = 8
EACH = 12


@pytest.fixture
def postgres_books(books, erp_database_url):
    if not erp_database_url.startswith("postgresql"):
        pytest.skip("needs ERP_TEST_DATABASE_URL (PostgreSQL)")
    return books


class Rollback(Exception):
    pass


def test_eight_concurrent_posters_leave_no_gap_and_no_duplicate(postgres_books):
    kernel = postgres_books
    with kernel.transaction() as session:
        bank, sales = account_by_code(session, "1100").id, account_by_code(session, "4100").id
    errors: list[BaseException] = []
    start = threading.Barrier(POSTERS)

    def poster(index: int) -> None:
        try:
            start.wait()
            for attempt in range(EACH):
                amount = Decimal(index * 100 + attempt + 1)
                draft = EntryDraft("SAL", TODAY, [LineDraft(bank, debit=amount),
                                                  LineDraft(sales, credit=amount)])
                try:
                    with kernel.transaction() as session:
                        post_entry(session, draft)
                        if attempt % 5 == 4:  # a poster that fails after taking a number
                            raise Rollback
                except Rollback:
                    pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=poster, args=(i,)) for i in range(POSTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with kernel.transaction() as session:
        numbers = sorted(session.scalars(sa.select(Entry.number)))
        unbalanced = session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(EntryLine.entry_id).group_by(EntryLine.entry_id).having(
                sa.func.sum(EntryLine.debit) != sa.func.sum(EntryLine.credit)).subquery()))
        assert verify_chains(session).ok
    kept = POSTERS * (EACH - EACH // 5)
    assert numbers == list(range(1, kept + 1))
    assert unbalanced == 0


def test_the_database_refuses_to_commit_an_unbalanced_entry(postgres_books):
    kernel = postgres_books
    with pytest.raises(sa.exc.IntegrityError, match="does not balance"), \
            kernel.transaction() as session:
        posted = post_entry(session, EntryDraft("GEN", TODAY, [
            LineDraft(account_by_code(session, "1100").id, debit=Decimal("5.00")),
            LineDraft(account_by_code(session, "3100").id, credit=Decimal("5.00"))]))
        line = {c.name: getattr(session.scalars(sa.select(EntryLine).where(
            EntryLine.entry_id == posted.id)).first(), c.name)
            for c in EntryLine.__table__.columns if c.name not in ("id", "sequence")}
        session.execute(sa.insert(EntryLine.__table__).values(
            {**line, "sequence": 9, "debit": Decimal("1.00"), "credit": Decimal(0),
             "amount_currency": Decimal("1.00")}))


def test_an_invoice_is_numbered_by_its_posting_and_never_committed_without_it(postgres_books):
    import datetime as dt

    from erp_finance.accounts import AccountRole, role_accounts
    from erp_finance.invoices import DraftLine, Invoice, InvoiceKind, post_invoice

    kernel = postgres_books
    with kernel.context() as ctx:
        customer = ctx.records("crm.customer").create({"name": "Ada", "kind": "person"})["id"]
        roles = role_accounts(ctx.session)
        invoice = post_invoice(ctx.session, InvoiceKind.INVOICE, [DraftLine(
            roles[AccountRole.SALES], Decimal(1), Decimal("10.00"), Decimal("1.90"),
            Decimal("0.19"), roles[AccountRole.OUTPUT_TAX])], customer_id=customer,
            currency="EUR", day=TODAY)
    with kernel.transaction() as session:
        entry = session.get(Entry, invoice.entry_id)
        assert session.get(Invoice, invoice.id).number == invoice.number == entry.name
    with pytest.raises(sa.exc.IntegrityError, match="has no posted entry"), \
            kernel.transaction() as session:
        session.add(Invoice(kind=InvoiceKind.INVOICE, state="open", customer_id=customer,
                            currency="EUR", rate=Decimal(1), date=TODAY,
                            due_date=TODAY + dt.timedelta(days=1), untaxed=Decimal(0),
                            tax=Decimal(0), total=Decimal(0), residual=Decimal(0), version=1))


def test_a_period_cannot_close_under_a_posting_that_has_not_committed(postgres_books,
                                                                      erp_principal):
    from erp_finance.periods import PeriodState, period_of, set_period_state

    kernel = postgres_books
    with kernel.transaction() as session:
        bank, sales = account_by_code(session, "1100").id, account_by_code(session, "4100").id
        period = period_of(session, TODAY).id
    with kernel.transaction() as posting:
        post_entry(posting, EntryDraft("SAL", TODAY, [LineDraft(bank, debit=Decimal(5)),
                                                      LineDraft(sales, credit=Decimal(5))]))
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"), \
                kernel.context(erp_principal("finance.accountant")) as ctx:
            ctx.session.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            set_period_state(ctx, period, PeriodState.CLOSED)  # waits for the posting
    with kernel.context(erp_principal("finance.accountant")) as ctx:
        assert set_period_state(ctx, period, PeriodState.CLOSED).state == PeriodState.CLOSED


def test_concurrent_shipments_and_payments_post_without_deadlock_or_gap(postgres_books, shop,
                                                                        place):
    """Each shipment posts in two journals (sales, then stock) and each payment in the
    bank's: eight of each at once all post, numbered without a gap, chains intact."""
    from erp_finance.invoices import Invoice
    from erp_finance.payments import PaymentDraft, receive_payment

    kernel = postgres_books
    orders = [place([(shop["tea"], "1", "4.20", "0.19"), (shop["mug"], "1", "12.50", "0.19")])
              for _ in range(POSTERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(POSTERS)

    def ship_and_pay(order) -> None:
        try:
            start.wait()
            with kernel.context() as ctx:
                ctx.fire("orders.order", order["id"], "ship")
            with kernel.context() as ctx:
                _, matched = receive_payment(ctx.session, PaymentDraft(
                    shop["customer"], Decimal(order["total"]), "EUR", TODAY,
                    reference=order["number"]), match=True)
                assert len(matched) == 1
        except BaseException as error:  # reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=ship_and_pay, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with kernel.transaction() as session:
        for code in ("SAL", "STK", "BNK"):
            numbers = sorted(session.scalars(sa.select(Entry.number).join(
                Journal, Journal.id == Entry.journal_id).where(Journal.code == code)))
            assert numbers == list(range(1, len(numbers) + 1)), code
        assert session.scalar(sa.select(sa.func.count()).select_from(Invoice).where(
            Invoice.state == "paid")) == POSTERS
        assert verify_chains(session).ok


def test_a_provider_payment_takes_its_invoice_before_the_bank_journals_number(
        postgres_books, shop, place, ship):
    """``receive_payment`` holds the invoice while it waits for the bank journal's number;
    a provider's payment of the same invoice must wait for the invoice without holding
    that number, or the two deadlock."""
    from erp_finance.invoices import Invoice
    from erp_finance.journals import JournalSequence
    from erp_finance.payments import PaymentDraft
    from erp_finance.providers import _record
    from erp_sdk import Principal
    from erp_sdk.testing import wait_for_lock_waiters

    kernel = postgres_books
    order = place([(shop["tea"], "2", "4.20", "0.19")])
    ship(order["id"])
    with kernel.transaction() as session:
        invoice = session.scalar(sa.select(Invoice).where(Invoice.order_id == order["id"]))
        bank = session.scalar(sa.select(Journal.id).where(Journal.code == "BNK"))
    draft = PaymentDraft(invoice.customer_id, Decimal("1.00"), invoice.currency, TODAY,
                         reference=invoice.number, provider="cod", provider_reference="r-1")
    outcome: list[object] = []
    with kernel.engine.connect() as holder:
        holder.execute(sa.select(Invoice.id).where(Invoice.id == invoice.id)
                       .with_for_update(key_share=True))
        paying = threading.Thread(target=lambda: outcome.append(
            _record(kernel, Principal.system(), draft, invoice.id)))
        paying.start()
        wait_for_lock_waiters(kernel)
        with kernel.engine.connect() as other:  # the bank journal's number is free
            other.execute(sa.select(JournalSequence.journal_id)
                          .where(JournalSequence.journal_id == bank)
                          .with_for_update(nowait=True)).all()
            other.rollback()
        holder.rollback()
    paying.join(30)
    assert outcome and outcome[0]["recorded"]
