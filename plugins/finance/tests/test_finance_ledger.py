"""The ledger: balanced, numbered, chained entries in open periods, never changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from finance_helpers import TODAY

from erp_finance.accounts import account_by_code
from erp_finance.charts import setup_books
from erp_finance.integrity import verify_chains
from erp_finance.ledger import Entry, EntryDraft, EntryLine, LineDraft, post_entry, reverse_entry
from erp_finance.periods import Period, PeriodState, set_lock_date, set_period_state
from erp_sdk import ConflictError, PermissionDenied, ValidationError
from erp_sdk.testing import assert_migrations_match_models


def _entry(session, debit="10.00", credit="10.00", day=TODAY, journal="GEN"):
    bank, capital = account_by_code(session, "1100").id, account_by_code(session, "3100").id
    return EntryDraft(journal, day, [LineDraft(bank, debit=Decimal(debit)),
                                     LineDraft(capital, credit=Decimal(credit))])


def test_the_migrations_create_exactly_the_models(kernel):
    assert_migrations_match_models(kernel, "finance")


def test_the_chinese_small_enterprise_chart_has_its_codes_and_both_names(kernel):
    with kernel.transaction() as session:
        setup_books(session, "cn-small", currency="CNY", year=TODAY.year)
        codes = {a.code: a for a in [account_by_code(session, c) for c in
                                     ("1001", "1002", "1122", "1405", "2202", "2221", "5001",
                                      "5401")]}
    assert codes["1405"].name == "库存商品"
    assert codes["1405"].name_en == "Merchandise inventory"
    assert codes["1122"].kind == "receivable"
    assert not codes["2221"].postable  # a group of the tax sub-accounts


def test_entries_are_numbered_per_journal_and_chained(books):
    with books.transaction() as session:
        first = post_entry(session, _entry(session))
        second = post_entry(session, _entry(session))
        other = post_entry(session, _entry(session, journal="BNK"))
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert first.name == f"GEN/{TODAY.year}/000001"
    with books.transaction() as session:
        assert session.get(Entry, second.id).previous_hash == first.hash
        assert verify_chains(session).ok


def test_an_unbalanced_entry_is_refused_and_takes_no_number(books):
    with pytest.raises(ValidationError, match="does not balance"), \
            books.transaction() as session:
        post_entry(session, _entry(session, credit="9.99"))
    with books.transaction() as session:
        assert post_entry(session, _entry(session)).number == 1


def test_amounts_finer_than_cents_are_refused_not_rounded(books):
    with pytest.raises(ValidationError, match="more decimals than cents"), \
            books.transaction() as session:
        post_entry(session, _entry(session, debit="10.001", credit="10.001"))


def test_a_foreign_entry_gets_a_rounding_line_and_still_balances(books):
    with books.transaction() as session:
        bank, sales = account_by_code(session, "1100").id, account_by_code(session, "4100").id
        posted = post_entry(session, EntryDraft("GEN", TODAY, [
            LineDraft(bank, debit=Decimal("33.34"), amount=Decimal("100.00")),
            LineDraft(sales, credit=Decimal("16.67"), amount=Decimal("-50.00")),
            LineDraft(sales, credit=Decimal("16.66"), amount=Decimal("-50.00"))],
            currency="USD"))
        lines = session.scalars(sa.select(EntryLine).where(EntryLine.entry_id == posted.id)
                                ).all()
    assert len(lines) == 4
    rounding = lines[-1]
    assert (rounding.credit, rounding.amount_currency) == (Decimal("0.01"), Decimal(0))
    assert sum(line.debit for line in lines) == sum(line.credit for line in lines)


def test_a_foreign_entry_must_balance_in_its_own_currency(books):
    with pytest.raises(ValidationError, match="transaction currency"), \
            books.transaction() as session:
        bank, sales = account_by_code(session, "1100").id, account_by_code(session, "4100").id
        post_entry(session, EntryDraft("GEN", TODAY, [
            LineDraft(bank, debit=Decimal("10.00"), amount=Decimal("11.00")),
            LineDraft(sales, credit=Decimal("10.00"), amount=Decimal("-12.00"))],
            currency="USD"))


def _period(session, day=TODAY):
    return session.scalar(sa.select(Period).where(Period.start_date <= day,
                                                  Period.end_date >= day))


def test_a_closed_period_refuses_postings_until_a_manager_reopens_it(books, erp_principal):
    accountant = erp_principal("finance.accountant")
    with books.context(accountant) as ctx:
        set_period_state(ctx, _period(ctx.session).id, PeriodState.CLOSED)
    with pytest.raises(ConflictError, match="is closed"), books.transaction() as session:
        post_entry(session, _entry(session))
    with pytest.raises(PermissionDenied), books.context(accountant) as ctx:
        set_period_state(ctx, _period(ctx.session).id, PeriodState.OPEN)
    with books.context(erp_principal("finance.manager")) as ctx:
        set_period_state(ctx, _period(ctx.session).id, PeriodState.OPEN)
        assert post_entry(ctx.session, _entry(ctx.session)).number == 1


def test_a_locked_period_never_opens_again(books, erp_principal):
    manager = erp_principal("finance.manager")
    with books.context(manager) as ctx:
        set_period_state(ctx, _period(ctx.session).id, PeriodState.LOCKED)
    with pytest.raises(ConflictError, match="locked"), books.context(manager) as ctx:
        set_period_state(ctx, _period(ctx.session).id, PeriodState.OPEN)
    with pytest.raises(ConflictError, match="is locked"), books.transaction() as session:
        post_entry(session, _entry(session))


def test_nothing_posts_on_or_before_the_lock_date(books, erp_principal):
    with books.context(erp_principal("finance.accountant")) as ctx:
        set_lock_date(ctx, TODAY)
    with pytest.raises(ConflictError, match="locked up to"), books.transaction() as session:
        post_entry(session, _entry(session))


def test_a_day_outside_every_fiscal_year_is_refused(books):
    with pytest.raises(ValidationError, match="no fiscal period"), \
            books.transaction() as session:
        post_entry(session, _entry(session, day=dt.date(TODAY.year - 5, 1, 1)))


def test_posted_lines_cannot_be_changed_or_deleted_in_the_database(books):
    with books.transaction() as session:
        posted = post_entry(session, _entry(session))
    for statement in (sa.update(EntryLine).where(EntryLine.entry_id == posted.id)
                      .values(debit=Decimal("99")),
                      sa.delete(EntryLine).where(EntryLine.entry_id == posted.id),
                      sa.delete(Entry).where(Entry.id == posted.id)):
        with pytest.raises(sa.exc.DBAPIError, match="cannot change"), \
                books.transaction() as session:
            session.execute(statement)


def test_a_reversal_mirrors_the_entry_and_cannot_be_done_twice(books):
    with books.transaction() as session:
        posted = post_entry(session, _entry(session))
        reversal = reverse_entry(session, posted.id, TODAY)
        lines = session.scalars(sa.select(EntryLine).where(EntryLine.entry_id == reversal.id)
                                .order_by(EntryLine.sequence)).all()
    assert [(line.debit, line.credit) for line in lines] == [
        (Decimal(0), Decimal("10.00")), (Decimal("10.00"), Decimal(0))]
    with pytest.raises(ConflictError, match="already reversed"), \
            books.transaction() as session:
        reverse_entry(session, posted.id, TODAY)


def _tamper(session, statement):
    """Change a posted row the way someone with the database's keys could."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        for table in ("finance_entry", "finance_entry_line"):
            session.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_final_update"))
    session.execute(statement)


def test_verify_names_the_first_entry_whose_content_was_changed(books):
    with books.transaction() as session:
        entries = [post_entry(session, _entry(session)) for _ in range(3)]
    with books.transaction() as session:
        _tamper(session, sa.update(EntryLine).where(EntryLine.entry_id == entries[1].id,
                                                    EntryLine.sequence == 0)
                .values(debit=Decimal("11.00")))
    with books.transaction() as session:
        result = verify_chains(session)
    assert not result.ok
    [broken] = result.breaks
    assert (broken.journal, broken.entry) == ("GEN", entries[1].name)
    assert "does not match its hash" in broken.reason


@pytest.fixture
def two_processes(books, erp_kernel_factory):
    """This process, which keeps what postings read for as long as a test runs, and
    another one on the same database (another kernel), whose changes it cannot see."""
    books.committed.max_age = 3600
    with books.transaction() as session:
        post_entry(session, _entry(session))  # the periods, settings and accounts cached
    return books, erp_kernel_factory("finance")


def test_a_period_another_process_closed_a_moment_ago_refuses(two_processes, erp_principal):
    here, other = two_processes
    with other.context(erp_principal("finance.accountant")) as ctx:
        set_period_state(ctx, _period(ctx.session).id, PeriodState.CLOSED)
    with pytest.raises(ConflictError, match="is closed"), here.transaction() as session:
        post_entry(session, _entry(session))
    with other.context(erp_principal("finance.manager")) as ctx:
        set_period_state(ctx, _period(ctx.session).id, PeriodState.OPEN)
    with here.transaction() as session:  # reopened: no refusal from what was cached
        assert post_entry(session, _entry(session)).number == 2


def test_a_lock_date_another_process_set_a_moment_ago_refuses(two_processes, erp_principal):
    here, other = two_processes
    with other.context(erp_principal("finance.accountant")) as ctx:
        set_lock_date(ctx, TODAY)
    with pytest.raises(ConflictError, match="locked up to"), here.transaction() as session:
        post_entry(session, _entry(session))


def test_an_account_another_process_deactivated_a_moment_ago_refuses(two_processes):
    from erp_finance.accounts import Account

    here, other = two_processes
    with other.transaction() as session:
        session.execute(sa.update(Account).where(Account.code == "3100").values(active=False))
    with pytest.raises(ValidationError, match="do not exist or are group accounts"), \
            here.transaction() as session:
        post_entry(session, _entry(session))
    with here.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 1
