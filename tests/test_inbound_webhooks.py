"""Inbound webhooks: POST /api/v1/hooks/{driver}/{account}, verified, handled once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from erp_core.api.app import create_app
from erp_core.events.outbox import OutboxEvent
from erp_core.kernel import Kernel

URL = "/api/v1/hooks/ticker/acme"


@pytest.fixture
def open_client(boot_plugins: Callable[..., Kernel]) -> Iterator[Callable[..., TestClient]]:
    """``open_client(**settings)``: an HTTP client (no credentials) of an app with the
    ticker plugin, whose account ``acme`` takes webhooks."""
    clients: list[TestClient] = []

    def open_(**settings: object) -> TestClient:
        kernel = boot_plugins("ticker", **settings)
        client = TestClient(create_app(kernel))
        client.__enter__()
        client.app.state.kernel_under_test = kernel
        clients.append(client)
        return client

    yield open_
    for client in clients:
        client.__exit__(None, None, None)


def signed(body: bytes, event: str | None = "evt-1", secret: str = "s3cret") -> dict[str, str]:
    import erp_test_ticker

    headers = {"x-ticker-signature": erp_test_ticker.sign(secret, body)}
    if event is not None:
        headers["x-ticker-event"] = event
    return headers


def received(client: TestClient) -> list[dict]:
    kernel = client.app.state.kernel_under_test
    with kernel.transaction() as session:
        return [event.payload for event in session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.name == "ticker.hook.received"))]


def test_a_webhook_replayed_is_handled_once(open_client):
    client = open_client()

    first = client.post(URL, content=b"paid", headers=signed(b"paid"))
    replay = client.post(URL, content=b"paid", headers=signed(b"paid"))

    assert first.status_code == 200, first.text
    assert first.json() == {"event_id": "evt-1", "duplicate": False,
                            "result": {"received": "paid"}}
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert received(client) == [{"body": "paid"}]


def test_without_a_provider_event_id_the_body_identifies_the_event(open_client):
    client = open_client()

    first = client.post(URL, content=b"paid", headers=signed(b"paid", event=None))
    replay = client.post(URL, content=b"paid", headers=signed(b"paid", event=None))
    other = client.post(URL, content=b"refunded", headers=signed(b"refunded", event=None))

    assert first.json()["event_id"].startswith("sha256:")
    assert replay.json()["duplicate"] is True and other.json()["duplicate"] is False
    assert received(client) == [{"body": "paid"}, {"body": "refunded"}]


def test_a_webhook_whose_handling_fails_keeps_nothing_and_is_handled_when_sent_again(
        open_client):
    client = open_client()

    refused = client.post(URL, content=b"fail", headers=signed(b"fail"))
    with client.app.state.kernel_under_test.transaction() as session:
        remembered = session.scalar(sa.text("SELECT count(*) FROM kernel_inbound_webhook"))
    sent_again = client.post(URL, content=b"paid", headers=signed(b"paid"))  # same event id

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert remembered == 0
    assert sent_again.status_code == 200 and sent_again.json()["duplicate"] is False
    assert received(client) == [{"body": "paid"}]


def test_two_copies_arriving_at_once_are_handled_once(boot_plugins, make_kernel):
    import threading

    from erp_core.inbound import InboundWebhook, receive

    boot_plugins("ticker")
    kernels = [make_kernel().boot() for _ in range(2)]
    webhook = InboundWebhook("ticker", "acme", signed(b"paid", event="evt-9"), b"paid")
    start = threading.Barrier(2)
    receptions = []

    def deliver(kernel: Kernel) -> None:
        start.wait()
        receptions.append(receive(kernel, webhook))

    threads = [threading.Thread(target=deliver, args=(kernel,)) for kernel in kernels]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(r.duplicate for r in receptions) == [False, True]
    with kernels[0].transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(
            OutboxEvent.name == "ticker.hook.received")) == 1


def test_a_bad_signature_is_401_and_handles_nothing(open_client):
    client = open_client()

    forged = client.post(URL, content=b"paid", headers=signed(b"paid", secret="guessed"))
    unsigned = client.post(URL, content=b"paid")

    assert forged.status_code == 401 and "signature" in forged.json()["detail"]
    assert unsigned.status_code == 401
    assert "Traceback" not in forged.text
    assert received(client) == []


def test_an_account_nobody_owns_is_404(open_client):
    client = open_client()
    assert client.post("/api/v1/hooks/ticker/nobody", content=b"x").status_code == 404
    assert client.post("/api/v1/hooks/other/acme", content=b"x").status_code == 404


def test_a_body_over_the_limit_is_413_before_it_is_verified(open_client):
    client = open_client(webhook_max_bytes=16)
    body = b"x" * 17

    too_large = client.post(URL, content=body, headers=signed(body))
    at_limit = client.post(URL, content=b"x" * 16, headers=signed(b"x" * 16))

    assert too_large.status_code == 413
    assert too_large.headers["content-type"].startswith("application/problem+json")
    assert at_limit.status_code == 200


def test_an_account_sending_too_fast_gets_429_with_retry_after(open_client):
    client = open_client(webhook_rate=0.01, webhook_burst=2)

    answers = [client.post(URL, content=f"n{n}".encode(), headers=signed(
        f"n{n}".encode(), event=f"e{n}")) for n in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert answers[2].headers["content-type"].startswith("application/problem+json")
    other_account = client.post("/api/v1/hooks/ticker/nobody", content=b"x")
    assert other_account.status_code == 404  # limited per account, not for everyone
