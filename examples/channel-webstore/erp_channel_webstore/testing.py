"""Pytest fixtures for tests that talk to a web shop: a running ``FakeShop`` and a
``WebStoreChannel`` configured for it.

Load them in a test module (or a root ``conftest.py``) with::

    pytest_plugins = ["erp_channel_webstore.testing"]

They are not registered automatically, so installing the driver adds nothing to other
test suites; their names start with ``webstore_`` so they clash with nobody's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from erp_channel_webstore.driver import WebStoreChannel
from erp_channel_webstore.fakeshop import FakeShop


@pytest.fixture
def webstore_shop() -> Iterator[FakeShop]:
    """A web shop listening on 127.0.0.1, stopped after the test; the test fails if the
    shop itself raised an error while answering."""
    with FakeShop() as shop:
        yield shop
    assert shop.server_errors == [], "the fake shop failed while answering a request"


@pytest.fixture
def make_webstore_channel(webstore_shop: FakeShop) -> Callable[..., WebStoreChannel]:
    """``make_webstore_channel(page_size=2)``: a driver for ``webstore_shop`` with these
    settings changed."""

    def make(**settings: Any) -> WebStoreChannel:
        return WebStoreChannel(settings=webstore_shop.channel_settings(**settings),
                               secrets=webstore_shop.channel_secrets())

    return make


@pytest.fixture
def webstore_channel(make_webstore_channel: Callable[..., WebStoreChannel]) -> WebStoreChannel:
    """A driver for ``webstore_shop`` with the default settings."""
    return make_webstore_channel()
