"""Purchases recorded at the same time as each other, as a recompute and as a merge: none
is lost, no transaction deadlocks, and what is kept equals a full recompute.

Recording asks for its transaction to be run again (``TransientConflict``) when a merge
moved the customers it locked; the races below do that, as ``Kernel.run`` and the API
do, but a deadlock the database detected fails them.

On PostgreSQL the transactions really overlap and wait for each other's row locks; on
SQLite writers take turns, which still checks that the end state is right.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa
from crm_helpers import NOW, behaviour, customer, kept

from erp_crm.exceptions import CustomerMerged
from erp_crm.services import merge_customers, recompute_tiers, record_purchase
from erp_sdk import Context, Kernel, TransientConflict
from erp_sdk.testing import wait_for_lock_waiters

pytestmark = pytest.mark.erp_plugins("crm")

ROUNDS = 6
BASKETS = [("shoes", "hats"), ("socks",), ("bags", "shoes"), ("hats",), ()]
Work = Callable[[Context, int], None]


def race(kernel: Kernel, works: list[Work], rounds: int = ROUNDS) -> None:
    """Run each ``works[i](ctx, round)`` in a thread of its own, one transaction per round,
    all of a round released together; fail on any error (a deadlock is one) or if a thread
    is still running after a minute."""
    barrier = threading.Barrier(len(works), timeout=30)
    errors: list[BaseException] = []

    def run(work: Work) -> None:
        try:
            for number in range(rounds):
                barrier.wait()
                run_again_if_moved(kernel, work, number)
        except BaseException as exc:  # reported below; the others stop at the barrier
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(work,), daemon=True) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [t for t in threads if t.is_alive()], "a transaction is stuck"
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    assert real == [], real[0] if real else None


def run_again_if_moved(kernel: Kernel, work: Work, number: int) -> None:
    """``work(ctx, number)`` in a transaction, run again while recording finds that a
    merge moved what it locked; a deadlock (a ``TransientConflict`` the database caused)
    is raised."""
    for _attempt in range(10):
        try:
            with kernel.context() as ctx:
                work(ctx, number)
            return
        except TransientConflict as exc:
            if exc.__cause__ is not None:
                raise
    raise AssertionError("the customers kept moving for ten attempts")


def recorder(customer_id: int, worker: int) -> Work:
    def work(ctx: Context, number: int) -> None:
        record_purchase(ctx, customer_id, f"SO-{worker}-{number}", Decimal(f"{worker + 1}.25"),
                        "EUR", NOW, BASKETS[(worker + number) % len(BASKETS)])
    return work


def assert_kept_equals_a_full_recompute(kernel: Kernel, customer_ids: list[int]) -> None:
    before = kept(kernel, customer_ids)
    with kernel.context() as ctx:
        assert recompute_tiers(ctx, customer_ids) == []
    assert kept(kernel, customer_ids) == before


def test_purchases_recorded_at_once_for_one_customer_are_all_counted(erp_kernel):
    ada = customer(erp_kernel)["id"]
    race(erp_kernel, [recorder(ada, worker) for worker in range(5)])
    summary = behaviour(erp_kernel, ada)["EUR"]
    assert (summary["purchase_count"], summary["total_spend"]) == (
        5 * ROUNDS, f"{sum(Decimal(f'{w + 1}.25') for w in range(5)) * ROUNDS:.4f}")
    assert_kept_equals_a_full_recompute(erp_kernel, [ada])


def test_purchases_recorded_during_a_recompute_are_not_lost(erp_kernel):
    ada, bob = customer(erp_kernel)["id"], customer(erp_kernel, "Bob")["id"]

    def recompute(ctx: Context, _number: int) -> None:
        recompute_tiers(ctx, [bob, ada])

    race(erp_kernel, [recorder(ada, 0), recorder(bob, 1), recorder(ada, 2), recompute])
    counts = {c: behaviour(erp_kernel, c)["EUR"]["purchase_count"] for c in (ada, bob)}
    assert counts == {ada: 2 * ROUNDS, bob: ROUNDS}
    assert_kept_equals_a_full_recompute(erp_kernel, [ada, bob])


def test_purchases_of_a_merged_customer_do_not_deadlock_with_a_recompute_or_merge(erp_kernel):
    # The survivor has the lower id: recording for the duplicate must still lock the
    # survivor first, as the recompute and the merge below do.
    kept_id, duplicate = customer(erp_kernel)["id"], customer(erp_kernel, "Ada (copy)")["id"]
    assert kept_id < duplicate
    with erp_kernel.context() as ctx:
        merge_customers(ctx, kept_id, duplicate)

    def recompute(ctx: Context, _number: int) -> None:
        recompute_tiers(ctx, [kept_id, duplicate])

    def merge_again(ctx: Context, _number: int) -> None:
        # locks both customers in id order, then refuses: the duplicate is merged
        with pytest.raises(CustomerMerged):
            merge_customers(ctx, kept_id, duplicate)

    race(erp_kernel, [recorder(duplicate, 0), recorder(duplicate, 1), recorder(kept_id, 2),
                      recompute, merge_again])
    assert behaviour(erp_kernel, kept_id)["EUR"]["purchase_count"] == 3 * ROUNDS
    assert behaviour(erp_kernel, duplicate) == {}
    assert_kept_equals_a_full_recompute(erp_kernel, [kept_id, duplicate])


def test_a_purchase_recorded_while_its_survivor_is_merged_goes_to_the_last_survivor(
        erp_kernel):
    # Each round: a duplicate already merged into a customer that is being merged in turn,
    # into one with a lower id, while purchases are recorded for the duplicate.
    chains = []
    for number in range(ROUNDS):
        last, middle, first = (customer(erp_kernel, f"{name} {number}")["id"]
                               for name in ("Last", "Middle", "First"))
        with erp_kernel.context() as ctx:
            merge_customers(ctx, middle, first)
        chains.append((last, middle, first))

    def merge_middle(ctx: Context, number: int) -> None:
        merge_customers(ctx, chains[number][0], chains[number][1])

    def record_for_first(worker: int) -> Work:
        def work(ctx: Context, number: int) -> None:
            recorded = record_purchase(ctx, chains[number][2], f"SO-{worker}-{number}",
                                       Decimal("10.00"), "EUR", NOW, ("shoes",))
            assert recorded.customer_id in chains[number][:2]
        return work

    race(erp_kernel, [record_for_first(0), record_for_first(1), merge_middle])
    everyone = [customer_id for chain in chains for customer_id in chain]
    assert [behaviour(erp_kernel, chain[0])["EUR"]["purchase_count"] for chain in chains] == [
        2] * ROUNDS
    assert_kept_equals_a_full_recompute(erp_kernel, everyone)


def test_recording_does_not_wait_for_a_reference_to_the_customer_being_checked(erp_kernel):
    """Inserting a row that refers to the customer (an order) takes FOR KEY SHARE on it;
    recording locks the customer with FOR NO KEY UPDATE, which leaves that free, so a
    shipment of one order and the completion of another do not deadlock on the customer."""
    if erp_kernel.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its writers take turns")
    ada = customer(erp_kernel)["id"]
    with erp_kernel.engine.connect() as other:
        other.execute(sa.text("SELECT 1 FROM crm_customer WHERE id = :id FOR KEY SHARE"),
                      {"id": ada})
        with erp_kernel.context() as ctx:
            ctx.session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            record_purchase(ctx, ada, "SO-KEY-1", Decimal("5.00"), "EUR", NOW, ["hats"])
        other.rollback()
    assert behaviour(erp_kernel, ada)["EUR"]["purchase_count"] == 1


def test_recording_while_orders_of_the_customer_are_placed_does_not_deadlock(erp_kernel):
    """Placing an order checks its customer key (FOR KEY SHARE on the customer) while
    purchases of that customer are recorded (which lock the customer): each customer is
    locked once per recording, however many tier rules there are, so the queue of lockers
    on its row never waits on itself."""
    ada = customer(erp_kernel)["id"]
    lock = " FOR KEY SHARE" if erp_kernel.engine.dialect.name == "postgresql" else ""

    def referrer(ctx: Context, _number: int) -> None:
        ctx.session.execute(sa.text(f"SELECT 1 FROM crm_customer WHERE id = :id{lock}"),
                            {"id": ada})

    race(erp_kernel, [recorder(ada, worker) for worker in range(6)] + [referrer] * 6,
         rounds=20)
    assert behaviour(erp_kernel, ada)["EUR"]["purchase_count"] == 6 * 20


def test_a_merge_committed_while_recording_waits_asks_for_the_work_to_run_again(erp_kernel):
    """Recording for a merged customer waits for the lock of the customer it was merged
    into while that one is merged in turn, into a customer with a lower id. Locking that
    one now would take a lower id after a higher one, which can deadlock with a merge:
    recording raises ``TransientConflict`` instead, and run again it records on the last
    survivor."""
    if erp_kernel.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its writers take turns")
    last, middle, first = (customer(erp_kernel, name)["id"]
                           for name in ("Last", "Middle", "First"))
    with erp_kernel.context() as ctx:
        merge_customers(ctx, middle, first)
    outcome: list[object] = []

    def record(ctx: Context) -> object:
        return record_purchase(ctx, first, "SO-MOVED-1", Decimal("10.00"), "EUR", NOW, ())

    def wait_and_record() -> None:
        try:
            with erp_kernel.context() as ctx:
                outcome.append(record(ctx))
        except Exception as exc:  # returned to the test
            outcome.append(exc)

    with erp_kernel.context() as merging:
        merge_customers(merging, last, middle)
        waiter = threading.Thread(target=wait_and_record)
        waiter.start()
        wait_for_lock_waiters(erp_kernel)
    waiter.join(30)
    [error] = outcome
    assert isinstance(error, TransientConflict) and error.__cause__ is None, error
    assert "moved to another customer" in error.message
    assert erp_kernel.run(record).customer_id == last
    assert behaviour(erp_kernel, last)["EUR"]["purchase_count"] == 1
    assert_kept_equals_a_full_recompute(erp_kernel, [last, middle, first])
