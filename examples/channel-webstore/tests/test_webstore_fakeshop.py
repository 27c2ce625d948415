"""The fake shop itself: a real server that always shuts down cleanly."""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
import urllib.request

import pytest

from erp_channel_webstore.fakeshop import FakeShop
from erp_channel_webstore.signing import signature_headers


def test_it_listens_on_a_local_ephemeral_port() -> None:
    with FakeShop() as shop:
        assert shop.base_url.startswith("http://127.0.0.1:")
        assert not shop.base_url.endswith(":0")


def test_after_stop_the_port_is_closed() -> None:
    with FakeShop() as shop:
        url = shop.base_url + "/orders"

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


def test_leaving_the_block_with_an_error_still_stops_it() -> None:
    shop = FakeShop()
    with pytest.raises(RuntimeError, match="boom"), shop:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="not running"):
        _ = shop.base_url


def test_stopping_twice_or_before_starting_is_harmless() -> None:
    shop = FakeShop()
    shop.stop()
    shop.start()
    shop.stop()
    shop.stop()


def test_stopping_does_not_wait_for_a_stalled_answer() -> None:
    shop = FakeShop().start()
    shop.stall_next(60)
    client = threading.Thread(target=_get_ignoring_errors, args=(shop.base_url + "/orders",))
    client.start()
    while not shop._in_progress:  # the request has reached the shop
        time.sleep(0.01)
    started = time.monotonic()

    shop.stop()

    assert time.monotonic() - started < 5
    client.join(5)
    assert not client.is_alive()


def test_a_signed_post_with_a_bad_signature_is_refused_and_not_recorded() -> None:
    with FakeShop() as shop:
        body = b'{"levels": []}'
        headers = {"X-Api-Key": shop.api_key, **signature_headers("wrong", body)}
        request = urllib.request.Request(shop.base_url + "/stock", data=body,
                                         headers=headers, method="POST")

        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=5)
        raised.value.close()

        assert raised.value.code == 401
        assert shop.stock_updates == []
        assert [r.status for r in shop.requests] == [401]


def test_a_unique_reference_is_required() -> None:
    shop = FakeShop()
    shop.add_order("WS-1")

    with pytest.raises(ValueError, match="already has an order 'WS-1'"):
        shop.add_order("WS-1")


def _get_ignoring_errors(url: str) -> None:
    with contextlib.suppress(OSError):  # URLError and connection errors are OSErrors
        urllib.request.urlopen(url, timeout=30).close()
