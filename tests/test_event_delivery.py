"""``erp worker`` delivering the outbox to webhooks: signed, retried with backoff,
dead-lettered, replayed, in order per record, once per event across racing workers, and
nothing lost when a worker is killed mid-batch. Against a real local HTTP receiver."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from event_receiver import Receiver, receiving

from erp_core.db.types import utcnow
from erp_core.events.delivery import EventDelivery
from erp_core.events.outbox import OutboxEvent, emit
from erp_core.events.webhooks import WebhookSubscription, matches
from erp_core.idempotency import IdempotencyRecord
from erp_core.kernel import Kernel
from erp_core.worker import Worker, WorkerSettings, claims
from erp_sdk.drivers import WebhookRejected, verify_signed_webhook

SECRET = "whsec_test_secret_0123456789"
FAST = {"backoff_seconds": 0.05, "backoff_max_seconds": 0.2, "poll_seconds": 0.01}


@pytest.fixture
def kernel(make_kernel: Callable[..., Kernel]) -> Kernel:
    made = make_kernel()
    made.initialise()
    return made.boot()


@pytest.fixture
def workers(kernel: Kernel) -> Iterator[Callable[..., Worker]]:
    made: list[Worker] = []

    def make(on: Kernel | None = None, **settings: Any) -> Worker:
        worker = Worker(on or kernel, WorkerSettings.from_env({}, **{**FAST, **settings}),
                        concurrency=4)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def subscribe(kernel: Kernel, url: str, patterns: list[str] | None = None) -> int:
    with kernel.context() as erp:
        return erp.records("kernel.webhook").create(
            {"url": url, "patterns": patterns or ["shop.*"], "secret": SECRET,
             "active": True})["id"]


def emit_events(kernel: Kernel, *events: tuple[str, int | None]) -> list[int]:
    with kernel.transaction() as session:
        written = [emit(session, name, "shop.order", record_id, {"n": index})
                   for index, (name, record_id) in enumerate(events)]
    return [event.id for event in written]


def deliver_until(worker: Worker, done: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        if not worker.deliver_batch():
            time.sleep(0.02)


def deliveries(kernel: Kernel, event_id: int) -> list[Any]:
    with kernel.engine.connect() as connection:
        return connection.execute(sa.select(EventDelivery.__table__).where(
            EventDelivery.event_id == event_id)).all()


def undelivered(kernel: Kernel) -> int:
    with kernel.engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(
            OutboxEvent.published_at.is_(None)))


def test_patterns_match_a_dotted_part_or_the_rest() -> None:
    assert matches(["orders.order.*"], "orders.order.confirmed")
    assert not matches(["orders.order.*"], "orders.order_line.created")
    assert matches(["orders.*.created"], "orders.order.created")
    assert not matches(["orders.*.created"], "orders.order.confirmed")
    assert matches(["*"], "crm.customer.created")


def test_a_webhook_gets_each_matching_event_signed_with_its_id(
        kernel: Kernel, workers: Callable[..., Worker], receiver: Receiver) -> None:
    subscribe(kernel, receiver.url, ["shop.order.*"])
    wanted = emit_events(kernel, ("shop.order.placed", 1), ("shop.order.confirmed", 2))
    emit_events(kernel, ("shop.invoice.sent", 3))
    workers().drain()
    assert sorted(receiver.event_ids()) == wanted
    for got in receiver.received:
        assert verify_signed_webhook(SECRET, got.headers, got.body) > 0
        assert got.headers["ERP-Event-Id"] == str(got.event["id"])
        assert got.event["entity"] == "shop.order"
    assert undelivered(kernel) == 0


def test_verify_signed_webhook_refuses_a_bad_signature_or_an_old_timestamp(
        kernel: Kernel, workers: Callable[..., Worker], receiver: Receiver) -> None:
    subscribe(kernel, receiver.url)
    emit_events(kernel, ("shop.order.placed", 1))
    workers().drain()
    got = receiver.received[0]
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_signed_webhook("another_secret_altogether", got.headers, got.body)
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_signed_webhook(SECRET, got.headers, got.body.replace(b"placed", b"paid__"))
    with pytest.raises(WebhookRejected, match="ago"):
        verify_signed_webhook(SECRET, got.headers, got.body, now=time.time() + 600,
                              tolerance=300)
    with pytest.raises(WebhookRejected, match="no ERP-Webhook-Signature"):
        verify_signed_webhook(SECRET, {"ERP-Webhook-Timestamp": "1"}, got.body)


def test_a_receiver_failing_three_times_gets_the_event_after_growing_pauses(
        kernel: Kernel, workers: Callable[..., Worker]) -> None:
    with receiving(statuses=[500, 500, 500]) as receiver:
        subscribe(kernel, receiver.url)
        [event_id] = emit_events(kernel, ("shop.order.placed", 1))
        worker = workers(backoff_seconds=0.2, backoff_max_seconds=10)
        deliver_until(worker, lambda: undelivered(kernel) == 0)
    assert receiver.event_ids() == [event_id] * 4
    [row] = deliveries(kernel, event_id)
    assert (row.state, row.attempts, row.last_error) == ("delivered", 4, None)
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    # backoff 0.2 s doubled per attempt, jitter taking off at most half
    assert [gap >= minimum for gap, minimum in zip(gaps, (0.1, 0.2, 0.4), strict=True)] \
        == [True] * 3


def test_an_event_is_dead_lettered_after_the_last_attempt_then_replayed(
        kernel: Kernel, workers: Callable[..., Worker]) -> None:
    from erp_core.worker.replay import replay_to_webhook

    with receiving(statuses=[503] * 3) as receiver:
        webhook = subscribe(kernel, receiver.url)
        [event_id] = emit_events(kernel, ("shop.order.placed", 1))
        worker = workers(max_attempts=3)
        deliver_until(worker, lambda: undelivered(kernel) == 0)
        [row] = deliveries(kernel, event_id)
        assert (row.state, row.attempts) == ("dead", 3)
        assert "HTTP 503" in row.last_error
        with kernel.engine.begin() as connection:
            assert replay_to_webhook(connection, webhook, event_id=event_id) == 1
        deliver_until(worker, lambda: undelivered(kernel) == 0)
    assert receiver.event_ids() == [event_id] * 4
    [row] = deliveries(kernel, event_id)
    assert (row.state, row.attempts) == ("delivered", 1)


def test_the_events_of_one_record_arrive_in_order_while_an_earlier_one_is_retried(
        kernel: Kernel, workers: Callable[..., Worker]) -> None:
    with receiving() as receiver:
        subscribe(kernel, receiver.url)
        first, other, second, third = emit_events(
            kernel, ("shop.order.placed", 1), ("shop.order.placed", 2),
            ("shop.order.confirmed", 1), ("shop.order.shipped", 1))
        receiver.failing[first] = 2
        worker = workers(backoff_seconds=0.1)
        deliver_until(worker, lambda: undelivered(kernel) == 0)
    ids = receiver.event_ids()
    record_1 = [i for i in ids if i != other]
    assert record_1 == [first, first, first, second, third]
    assert ids.index(other) < ids.index(second)  # record 2 was not held up by record 1


def test_a_records_events_committed_together_go_out_in_one_batch_in_order(
        kernel: Kernel, workers: Callable[..., Worker], receiver: Receiver) -> None:
    """A claim takes a record's first undelivered event and the free ones after it, and
    the record's events are posted one after the other: one batch, not one per event."""
    subscribe(kernel, receiver.url)
    written = emit_events(kernel, *((f"shop.order.e{n}", 1 + n % 3) for n in range(12)))
    workers(batch_size=50).deliver_batch()
    assert undelivered(kernel) == 0
    ids = receiver.event_ids()
    assert sorted(ids) == written
    for record in (1, 2, 3):
        mine = [i for n, i in enumerate(written) if 1 + n % 3 == record]
        assert [i for i in ids if i in mine] == mine


def test_events_held_back_behind_a_failed_one_are_not_counted_as_attempts(
        kernel: Kernel, workers: Callable[..., Worker], receiver: Receiver) -> None:
    subscribe(kernel, receiver.url)
    first, second, third = emit_events(kernel, ("shop.order.placed", 1),
                                       ("shop.order.confirmed", 1), ("shop.order.shipped", 1))
    receiver.failing[first] = 1
    worker = workers(batch_size=50, backoff_seconds=0.05)
    worker.deliver_batch()
    assert receiver.event_ids() == [first]  # the two after it were held back
    assert undelivered(kernel) == 3
    [held] = deliveries(kernel, second)
    assert (held.state, held.attempts) == ("pending", 0)
    deliver_until(worker, lambda: undelivered(kernel) == 0)
    assert receiver.event_ids() == [first, first, second, third]
    assert [(d.state, d.attempts) for d in deliveries(kernel, second)] == [("delivered", 1)]
    assert [(d.state, d.attempts) for d in deliveries(kernel, first)] == [("delivered", 2)]


def test_a_webhook_failing_for_longer_than_allowed_is_switched_off_with_the_reason(
        kernel: Kernel, workers: Callable[..., Worker]) -> None:
    with receiving(statuses=[500] * 50) as receiver:
        webhook = subscribe(kernel, receiver.url)
        emit_events(kernel, ("shop.order.placed", 1))
        worker = workers(disable_after_seconds=0.3, max_attempts=50)

        def switched_off() -> bool:
            with kernel.engine.connect() as connection:
                return not connection.scalar(sa.select(WebhookSubscription.active).where(
                    WebhookSubscription.id == webhook))

        deliver_until(worker, switched_off)
    with kernel.context() as erp:
        record = erp.records("kernel.webhook").get(webhook)
    assert record["active"] is False
    assert "HTTP 500" in record["disabled_reason"]
    assert "secret" not in record


def test_two_workers_racing_deliver_every_event_once(
        postgres_url: str, kernel: Kernel, make_kernel: Callable[..., Kernel],
        workers: Callable[..., Worker], receiver: Receiver) -> None:
    subscribe(kernel, receiver.url)
    written = []
    for start in range(0, 600, 100):
        written += emit_events(kernel, *((f"shop.order.e{n}", n % 150)
                                         for n in range(start, start + 100)))
    racers = [workers(on=make_kernel().boot(), batch_size=40) for _ in range(2)]
    handled = [0, 0]

    def run(index: int) -> None:
        while (count := racers[index].deliver_batch()) or undelivered(kernel):
            handled[index] += count

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    arrived = receiver.event_ids()
    assert sorted(arrived) == written  # every event, none twice
    assert all(handled), f"both workers took part: {handled}"
    record_of = {event_id: n % 150 for n, event_id in enumerate(written)}
    for record in range(150):  # each record's events in the order they happened
        mine = [i for i in arrived if record_of[i] == record]
        assert mine == sorted(mine)


def test_a_claim_is_planned_for_the_outbox_as_it_is_not_from_an_idle_time_plan(
        postgres_url: str, kernel: Kernel) -> None:
    """An idle worker claims on an empty outbox again and again; psycopg then prepares the
    statement, and a generic plan cached on the empty table would read the whole backlog
    of the next burst for every claim. Each claim is planned anew instead."""
    with kernel.engine.connect() as connection:
        for _ in range(12):  # past psycopg's prepare threshold (5) and PostgreSQL's (5)
            with connection.begin():
                assert claims.claim(connection, "idle", 10, 60) == []
        with connection.begin():
            used = connection.execute(sa.text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%SKIP LOCKED%'")).one()
    assert used.generic_plans == 0
    assert used.custom_plans > 0


def test_a_delivery_slower_than_the_lease_keeps_it_and_is_not_made_twice(
        kernel: Kernel, make_kernel: Callable[..., Kernel],
        workers: Callable[..., Worker]) -> None:
    with receiving(delay=1.5) as receiver:
        subscribe(kernel, receiver.url)
        [event] = emit_events(kernel, ("shop.order.placed", 1))
        slow = workers(lease_seconds=0.5)
        other = workers(on=make_kernel().boot(), lease_seconds=0.5)
        delivering = threading.Thread(target=slow.deliver_batch)
        delivering.start()
        receiver.wait_for(1)
        taken_meanwhile = 0
        while delivering.is_alive():  # three leases' time: the renewals keep it
            taken_meanwhile += other.deliver_batch()
            time.sleep(0.05)
        delivering.join()
    assert receiver.event_ids() == [event]
    assert taken_meanwhile == 0
    assert undelivered(kernel) == 0


def test_a_running_worker_claims_again_at_once_after_a_short_batch(
        kernel: Kernel, workers: Callable[..., Worker], receiver: Receiver) -> None:
    subscribe(kernel, receiver.url)
    # the second event waits for the first (same record): the first batch holds one event
    written = emit_events(kernel, ("shop.order.placed", 1), ("shop.order.confirmed", 1))
    worker = workers(batch_size=10, poll_seconds=60)
    stop = threading.Event()
    running = threading.Thread(target=worker.run, args=(stop,))
    running.start()
    try:
        receiver.wait_for(2, timeout=20)
    finally:
        stop.set()
        running.join(30)
    assert receiver.event_ids() == written  # not an idle worker's minute later


def test_a_worker_killed_mid_batch_loses_nothing(
        kernel: Kernel, database_url: str, workers: Callable[..., Worker]) -> None:
    with receiving(delay=0.2) as receiver:
        subscribe(kernel, receiver.url)
        written = emit_events(kernel, *((f"shop.order.e{n}", n) for n in range(40)))
        env = {**os.environ, "ERP_DATABASE_URL": database_url, "ERP_WORKER_LEASE_SECONDS": "2",
               "ERP_WORKER_BATCH": "40"}
        process = subprocess.Popen([sys.executable, "-m", "erp_core", "worker",
                                    "--concurrency", "2"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            receiver.wait_for(3)
            assert len(receiver.received) >= 3, "the worker process delivered nothing"
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
        assert undelivered(kernel) >= len(written), "killed before it recorded a delivery"
        receiver.delay = 0
        deliver_until(workers(), lambda: undelivered(kernel) == 0)
    got = Counter(receiver.event_ids())
    assert sorted(got) == written
    assert max(got.values()) == 2  # the ones in flight when it died came twice


def test_the_worker_purges_expired_keys_and_old_delivered_events(
        kernel: Kernel, workers: Callable[..., Worker], receiver: Receiver) -> None:
    subscribe(kernel, receiver.url)
    old, recent = emit_events(kernel, ("shop.order.placed", 1), ("shop.order.placed", 2))
    worker = workers(retention_seconds=3600, purge_interval_seconds=0)
    worker.drain()
    now = utcnow()
    with kernel.transaction() as session:
        session.execute(sa.update(OutboxEvent).where(OutboxEvent.id == old).values(
            published_at=now - dt.timedelta(hours=2)))
        session.add_all([
            IdempotencyRecord(key="expired", fingerprint="x", created_at=now,
                              expires_at=now - dt.timedelta(seconds=1)),
            IdempotencyRecord(key="live", fingerprint="x", created_at=now,
                              expires_at=now + dt.timedelta(hours=1))])
    worker.tick()
    with kernel.engine.connect() as connection:
        assert connection.scalars(sa.select(OutboxEvent.id).where(
            OutboxEvent.entity == "shop.order")).all() == [recent]
        assert connection.scalars(sa.select(IdempotencyRecord.key)).all() == ["live"]
        assert connection.scalars(sa.select(EventDelivery.event_id)).all() == [recent]


def test_an_event_whose_sending_raises_fails_alone_and_holds_back_only_its_records_later_ones(
        ) -> None:
    from erp_core.events.delivery import OutboundEvent
    from erp_core.worker.destinations import NOT_SENT, in_order

    now = utcnow()
    first, later, other = (OutboundEvent(i, "shop.order.e", "shop.order", record, {}, now)
                           for i, record in ((1, 7), (2, 7), (3, 8)))

    def send(event: OutboundEvent) -> str | None:
        if event.id == 1:
            raise ValueError("Port out of range 0-65535")
        return None

    outcomes = in_order([first, later, other], send)
    assert outcomes[0] is not None and "ValueError" in outcomes[0]
    assert outcomes[1:] == [NOT_SENT, None]
