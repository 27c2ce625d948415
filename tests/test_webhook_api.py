"""Webhook subscriptions through the generic API: the secret is accepted and never shown
again, not in the audit log nor in the events; replay through the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from event_receiver import receiving

from erp_core.audit import AuditEntry
from erp_core.events.outbox import OutboxEvent, emit
from erp_core.kernel import Kernel
from erp_core.worker import Worker, WorkerSettings

pytestmark = pytest.mark.erp_plugins()
SECRET = "whsec_api_secret_0123456789"


@pytest.fixture
def worker(erp_kernel: Kernel) -> Iterator[Worker]:
    made = Worker(erp_kernel, WorkerSettings.from_env({}, poll_seconds=0.01))
    yield made
    made.close()


def test_the_secret_is_never_returned_nor_audited_nor_in_events(
        erp_client: Any, erp_kernel: Kernel) -> None:
    created = erp_client.post("/api/v1/kernel/webhooks", json={
        "url": "http://127.0.0.1:9/hooks", "patterns": ["orders.order.*"], "secret": SECRET,
        "active": True})
    assert created.status_code == 201, created.text
    assert "secret" not in created.json()
    webhook = created.json()["id"]
    assert "secret" not in erp_client.get(f"/api/v1/kernel/webhooks/{webhook}").json()
    assert all("secret" not in item
               for item in erp_client.get("/api/v1/kernel/webhooks").json()["items"])
    changed = erp_client.patch(f"/api/v1/kernel/webhooks/{webhook}",
                               json={"secret": SECRET + "-rotated"})
    assert changed.status_code == 200, changed.text
    with erp_kernel.engine.connect() as connection:
        stored = [str(row) for row in connection.execute(sa.select(AuditEntry.changes))]
        stored += [str(row) for row in connection.execute(sa.select(OutboxEvent.payload))]
    assert stored and not any(SECRET in text for text in stored)


def test_replaying_a_webhook_through_the_api_delivers_its_events_again(
        erp_client: Any, erp_kernel: Kernel, worker: Worker) -> None:
    with receiving() as receiver:
        webhook = erp_client.post("/api/v1/kernel/webhooks", json={
            "url": receiver.url, "patterns": ["shop.*"], "secret": SECRET,
            "active": True}).json()["id"]
        with erp_kernel.transaction() as session:
            first = emit(session, "shop.order.placed", "shop.order", 1, {})
            second = emit(session, "shop.order.paid", "shop.order", 1, {})
        ids = [first.id, second.id]
        worker.drain()
        one = erp_client.post(f"/api/v1/kernel/webhooks/{webhook}/replay",
                              json={"event_id": ids[0]})
        assert (one.status_code, one.json()) == (202, {"replayed": 1})
        worker.drain()
        since = erp_client.post(f"/api/v1/kernel/webhooks/{webhook}/replay",
                                json={"since": "2000-01-01T00:00:00+00:00"})
        assert (since.status_code, since.json()) == (202, {"replayed": 2})
        worker.drain()
        assert receiver.event_ids() == [*ids, ids[0], *ids]
        missing = erp_client.post(f"/api/v1/kernel/webhooks/{webhook}/replay",
                                  json={"event_id": 999999})
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        neither = erp_client.post(f"/api/v1/kernel/webhooks/{webhook}/replay", json={})
        assert neither.status_code == 422


def test_replay_needs_its_permission(erp_client_for: Any) -> None:
    client = erp_client_for()
    assert client.post("/api/v1/kernel/webhooks/1/replay",
                       json={"event_id": 1}).status_code == 403
