"""The worker: one loop per process, each tick running due jobs, purging what expired and
delivering a batch of events.

Several workers (processes, machines) may run against one PostgreSQL database: they
claim different events (``erp_core.worker.claims``) and purge under an advisory lock. On
SQLite run one worker. Delivery is at least once: an event is marked delivered after its
destinations took it, so a worker that dies between the two leaves it to be delivered
again once its lease has run out.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import sqlalchemy as sa

from erp_core.db.types import utcnow
from erp_core.events.delivery import DeliveryState
from erp_core.events.sinks import EventSinkAccount
from erp_core.events.webhooks import WebhookSubscription
from erp_core.jobs import run_due_jobs
from erp_core.worker import claims, purge
from erp_core.worker.destinations import (
    NOT_SENT,
    SinkDestination,
    WebhookDestination,
    WebhookSender,
    futures_behind,
)
from erp_core.worker.settings import WorkerSettings

log = logging.getLogger("erp.worker")

_WEBHOOKS = WebhookSubscription.__table__
_SINKS = EventSinkAccount.__table__
_LIVE = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)

Destination = WebhookDestination | SinkDestination
WAITING_PAUSE_SECONDS = 0.02
"""How long a worker pauses when every free event waits behind one another worker is
delivering: about one delivery, far shorter than an idle worker's poll."""


class Worker:
    """Delivers a kernel's outbox; ``run()`` until stopped, or ``tick()`` / ``drain()``."""

    def __init__(self, kernel: Any, settings: WorkerSettings | None = None, *,
                 concurrency: int = 8, name: str | None = None) -> None:
        self.kernel = kernel
        self.settings = settings or WorkerSettings.from_env()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.concurrency = max(1, concurrency)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="erp-delivery")
        self._sender = WebhookSender(self.settings.webhook_timeout_seconds)
        self._sinks: dict[tuple[int, int], Any] = {}
        self._last_purge = 0.0
        self._waiting = False

    # -- the loop --------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Tick until ``stop`` is set. A worker that claimed events looks again at once (a
        short batch means other workers took the rest, not that the outbox is empty); one
        that found nothing waits ``poll_seconds``, or a moment when events wait behind
        another worker's. A tick that fails (the database is down) is logged and tried
        again after a pause."""
        stop = stop or threading.Event()
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                delivered = self.tick()
            except Exception:
                log.exception("worker %s: tick failed; trying again", self.name)
                stop.wait(max(1.0, self.settings.poll_seconds))
                continue
            if not delivered:
                stop.wait(min(WAITING_PAUSE_SECONDS, self.settings.poll_seconds)
                          if self._waiting else self.settings.poll_seconds)
        log.info("worker %s stopped", self.name)

    def tick(self) -> int:
        """Run due periodic jobs, purge when it is time, and deliver one batch; return how
        many events the batch held."""
        run_due_jobs(self.kernel)
        if time.monotonic() - self._last_purge >= self.settings.purge_interval_seconds:
            self._last_purge = time.monotonic()
            purge.purge_expired(self.kernel.engine, self.settings.retention_seconds)
        return self.deliver_batch()

    def drain(self, *, timeout: float = 30.0) -> int:
        """Deliver until no event is left to claim now (events waiting for a retry stay);
        return how many were handled. For tests and one-off runs."""
        handled, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            count = self.deliver_batch()
            if not count:
                return handled
            handled += count
        return handled

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for sink in self._sinks.values():
            closing = getattr(sink, "close", None)
            if closing is not None:
                try:
                    closing()
                except Exception:
                    log.warning("closing an event sink failed", exc_info=True)
        self._sinks.clear()

    # -- one batch -------------------------------------------------------------------

    def deliver_batch(self) -> int:
        """Claim a batch, deliver it to its destinations, record the outcome."""
        with self.kernel.engine.begin() as connection:
            batch = claims.claim(connection, self.name, self.settings.batch_size,
                                 self.settings.lease_seconds)
            if not batch:
                self._waiting = claims.waiting(connection)
                return 0
            destinations = self._destinations(connection)
        by_target = {d.target: d for d in destinations}
        plan: dict[str, list[claims.Claimed]] = {}
        given_up: list[tuple[int, str]] = []
        for claimed in batch:
            if claimed.prior:
                for target, prior in claimed.prior.items():
                    if prior.state not in _LIVE:
                        continue
                    if target in by_target:
                        plan.setdefault(target, []).append(claimed)
                    else:
                        given_up.append((claimed.event.id, target))
            else:
                for destination in destinations:
                    if destination.wants(claimed.event.name):
                        plan.setdefault(destination.target, []).append(claimed)
        futures = []
        for target, items in plan.items():
            for event_id, future in by_target[target].submit(
                    self._pool, self._sender, [c.event for c in items]):
                futures.append((target, event_id, future))
        self._hold_lease([c.event.id for c in batch], [future for _, _, future in futures])
        prior = {(c.event.id, t): p for c in batch for t, p in c.prior.items()}
        outcomes = [(target, event_id, future.result()) for target, event_id, future in futures]
        attempts = [claims.Attempt(event_id, target, outcome, prior.get((event_id, target)),
                                   self.settings.max_attempts)
                    for target, event_id, outcome in outcomes if outcome != NOT_SENT]
        held_back = [(event_id, target, prior.get((event_id, target)))
                     for target, event_id, outcome in outcomes if outcome == NOT_SENT]
        retry_at: dict[int, dt.datetime] = {}
        now = utcnow()
        for attempt in attempts:
            if attempt.state is DeliveryState.RETRYING:
                when = now + dt.timedelta(seconds=self.settings.backoff(attempt.attempts))
                retry_at[attempt.event_id] = max(when, retry_at.get(attempt.event_id, when))
        waiting = {event_id for event_id, _, _ in held_back}
        done = [c.event.id for c in batch
                if c.event.id not in retry_at and c.event.id not in waiting]
        with self.kernel.engine.begin() as connection:
            claims.record(connection, attempts, done, retry_at, given_up, held_back)
            self._note_health(connection, destinations, attempts, now)
        failed = sum(1 for a in attempts if a.error is not None)
        if failed:
            log.warning("worker %s: %d of %d deliveries failed", self.name, failed,
                        len(attempts))
        return len(batch)

    def _hold_lease(self, ids: list[int], outcomes: Sequence[Any]) -> None:
        """Wait for a batch's deliveries, renewing its lease every third of the lease while
        any runs: a slow destination never lets another worker take the batch and deliver
        it a second time. Only a worker that stops renewing (it died) loses its events."""
        pending: set[Future[Any]] = futures_behind(outcomes)
        while pending:
            _, pending = wait(pending, timeout=self.settings.lease_seconds / 3)
            if pending:
                with self.kernel.engine.begin() as connection:
                    kept = claims.extend(connection, self.name, ids, self.settings.lease_seconds)
                if kept < len(ids):
                    log.warning("worker %s: the lease on %d of %d events ran out during their"
                                " delivery; they may be delivered twice", self.name,
                                len(ids) - kept, len(ids))

    def _destinations(self, connection: sa.Connection) -> list[Destination]:
        found: list[Destination] = [
            WebhookDestination(row.id, row.url, row.secret, _patterns(row.patterns, ()),
                               row.failing_since)
            for row in connection.execute(
                sa.select(_WEBHOOKS.c.id, _WEBHOOKS.c.url, _WEBHOOKS.c.secret,
                          _WEBHOOKS.c.patterns, _WEBHOOKS.c.failing_since)
                .where(_WEBHOOKS.c.active.is_(True)).order_by(_WEBHOOKS.c.id))]
        for row in connection.execute(
                sa.select(_SINKS).where(_SINKS.c.active.is_(True)).order_by(_SINKS.c.id)):
            key = (row.id, row.version)
            sink = self._sinks.get(key)
            if sink is None:
                try:
                    sink = self.kernel.drivers.load("event_sink", row.driver,
                                                    settings=dict(row.settings or {}),
                                                    secrets=dict(row.secrets or {}))
                except Exception as exc:
                    log.error("event sink %r cannot be built: %s", row.name, exc)
                    sink = _Broken(f"{type(exc).__name__}: {exc}")
                self._sinks[key] = sink
            found.append(SinkDestination(row.id, row.name, sink, _patterns(row.patterns, ("*",)),
                                         row.failing_since))
        return found

    def _note_health(self, connection: sa.Connection, destinations: Sequence[Destination],
                     attempts: Sequence[claims.Attempt], now: dt.datetime) -> None:
        """Remember since when each destination has been failing; switch off a webhook
        that has answered nothing but failures for ``disable_after_seconds``."""
        outcomes: dict[str, list[str | None]] = {}
        for attempt in attempts:
            outcomes.setdefault(attempt.target, []).append(attempt.error)
        for destination in destinations:
            errors = outcomes.get(destination.target)
            if not errors:
                continue
            table = _WEBHOOKS if isinstance(destination, WebhookDestination) else _SINKS
            succeeded = any(e is None for e in errors)
            last_error = next((e for e in reversed(errors) if e is not None), None)
            values: dict[str, Any]
            if succeeded:
                if destination.failing_since is None:
                    continue
                values = {"failing_since": None}
            elif destination.failing_since is None:
                values = {"failing_since": now}
            elif isinstance(destination, WebhookDestination) and (
                    now - destination.failing_since).total_seconds() \
                    >= self.settings.disable_after_seconds:
                values = {"active": False, "disabled_reason": (
                    f"switched off at {now.isoformat(timespec='seconds')}: every delivery"
                    f" since {destination.failing_since.isoformat(timespec='seconds')}"
                    f" failed; last error: {last_error}")}
                log.warning("webhook %s switched off: %s", destination.id,
                            values["disabled_reason"])
            else:
                continue
            if table is _SINKS:
                values["last_error"] = None if succeeded else last_error
            connection.execute(sa.update(table).where(table.c.id == destination.id).values(
                version=table.c.version + 1, updated_at=now, **values))


def _patterns(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    """A stored ``patterns`` value as names: a list, or one name written as a string."""
    if isinstance(value, str):
        return (value,)
    return tuple(p for p in value if isinstance(p, str)) if value else default


class _Broken:
    """A sink whose driver could not be built: every publish fails with that reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def publish(self, _event: Any) -> None:
        raise RuntimeError(self.reason)
