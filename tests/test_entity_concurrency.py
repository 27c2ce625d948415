"""Concurrent and repeated writes: versions and ETags (optimistic concurrency) and
``Idempotency-Key``, including requests that really overlap in the database.

To make two requests overlap for certain, the first is held inside its transaction right
after one of its statements ran (``held_statement``) until the second has reached the
database and waits for it; on PostgreSQL the test checks the wait in ``pg_locks``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from api_client import *  # noqa: F403  (fixtures of the shop app)
from api_client import PRODUCTS, assert_problem

from erp_core.errors import ConfigurationError
from erp_core.kernel import Kernel
from erp_core.settings import Settings

PRODUCT = {"sku": "TEA-1", "name": "Green tea", "price": "4.50"}


def product_count(kernel: Kernel) -> int:
    with kernel.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM shop_product")).scalar_one()


def post_with_key(client: Any, key: str, body: dict[str, Any] = PRODUCT) -> Any:
    return client.post(PRODUCTS, json=body, headers={"Idempotency-Key": key})


# Versions and ETags

def test_every_record_response_carries_its_version_as_etag(shop_client):
    created = shop_client.post(PRODUCTS, json=PRODUCT)
    path = f"{PRODUCTS}/{created.json()['id']}"
    assert created.headers["etag"] == '"1"'
    assert shop_client.get(path).headers["etag"] == '"1"'
    assert shop_client.patch(path, json={"name": "B"}).headers["etag"] == '"2"'


def test_a_patch_with_the_current_if_match_succeeds(shop_client, make_product):
    path = f"{PRODUCTS}/{make_product()['id']}"
    etag = shop_client.get(path).headers["etag"]
    response = shop_client.patch(path, json={"name": "B"}, headers={"If-Match": etag})
    assert response.status_code == 200 and response.json()["version"] == 2


def test_a_patch_with_a_stale_if_match_is_412_and_changes_nothing(shop_client, make_product):
    path = f"{PRODUCTS}/{make_product(name='A')['id']}"
    shop_client.patch(path, json={"name": "B"})
    problem = assert_problem(
        shop_client.patch(path, json={"name": "C"}, headers={"If-Match": '"1"'}), 412)
    assert "version 2" in problem["detail"]
    current = shop_client.get(path).json()
    assert (current["name"], current["version"]) == ("B", 2)


def test_a_stale_if_match_leaves_extension_fields_unchanged_too(shop_client, make_product):
    path = f"{PRODUCTS}/{make_product(loyalty_points=1)['id']}"
    shop_client.patch(path, json={"name": "B"})
    response = shop_client.patch(path, json={"loyalty_points": 99}, headers={"If-Match": '"1"'})
    assert_problem(response, 412)
    assert shop_client.get(path).json()["loyalty_points"] == 1


def test_a_patch_with_the_current_version_in_its_body_succeeds(shop_client, make_product):
    path = f"{PRODUCTS}/{make_product()['id']}"
    response = shop_client.patch(path, json={"name": "B", "version": 1})
    assert response.status_code == 200 and response.json()["version"] == 2


def test_a_patch_with_a_stale_version_in_its_body_is_409_and_changes_nothing(
        shop_client, make_product):
    path = f"{PRODUCTS}/{make_product(name='A')['id']}"
    shop_client.patch(path, json={"name": "B"})
    assert_problem(shop_client.patch(path, json={"name": "C", "version": 1}), 409)
    current = shop_client.get(path).json()
    assert (current["name"], current["version"]) == ("B", 2)


def test_a_weak_etag_is_accepted_in_if_match(shop_client, make_product):
    path = f"{PRODUCTS}/{make_product()['id']}"
    response = shop_client.patch(path, json={"name": "B"}, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200


def test_if_match_star_matches_any_version(shop_client, make_product):
    path = f"{PRODUCTS}/{make_product()['id']}"
    shop_client.patch(path, json={"name": "B"})
    response = shop_client.patch(path, json={"name": "C"}, headers={"If-Match": "*"})
    assert response.status_code == 200 and response.json()["version"] == 3


def test_a_delete_with_a_stale_if_match_is_412_and_keeps_the_record(shop_client, make_product):
    path = f"{PRODUCTS}/{make_product()['id']}"
    shop_client.patch(path, json={"name": "B"})
    assert_problem(shop_client.delete(path, headers={"If-Match": '"1"'}), 412)
    assert shop_client.get(path).status_code == 200
    assert shop_client.delete(path, headers={"If-Match": '"2"'}).status_code == 204


# Idempotency-Key

def test_repeating_a_post_with_its_key_returns_the_first_response_and_creates_nothing(
        shop_client, shop_kernel):
    first = post_with_key(shop_client, "order-1")
    again = post_with_key(shop_client, "order-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert product_count(shop_kernel) == 1


def test_a_replayed_response_says_so(shop_client):
    assert "idempotent-replayed" not in post_with_key(shop_client, "order-1").headers
    assert post_with_key(shop_client, "order-1").headers["idempotent-replayed"] == "true"


def test_reusing_a_key_with_a_different_body_is_422_and_creates_nothing(
        shop_client, shop_kernel):
    post_with_key(shop_client, "order-1")
    response = post_with_key(shop_client, "order-1", {**PRODUCT, "sku": "TEA-2"})
    assert_problem(response, 422, "Idempotency-Key")
    assert product_count(shop_kernel) == 1


def test_different_keys_create_different_records(shop_client, shop_kernel):
    post_with_key(shop_client, "order-1")
    assert post_with_key(shop_client, "order-2", {**PRODUCT, "sku": "TEA-2"}).status_code == 201
    assert product_count(shop_kernel) == 2


def test_a_post_that_fails_does_not_use_up_its_key(shop_client, shop_kernel):
    assert_problem(post_with_key(shop_client, "order-1", {**PRODUCT, "price": "x"}), 422)
    assert post_with_key(shop_client, "order-1").status_code == 201
    assert product_count(shop_kernel) == 1


def test_a_key_belongs_to_the_user_who_sent_it(shop_kernel, api_client):
    post_with_key(api_client(shop_kernel, user="alice"), "order-1")
    response = post_with_key(api_client(shop_kernel, user="bob"), "order-1",
                             {**PRODUCT, "sku": "TEA-2"})
    assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert product_count(shop_kernel) == 2


def test_a_key_of_the_longest_documented_length_is_accepted(shop_client, shop_kernel):
    key = "k" * 200
    assert post_with_key(shop_client, key).status_code == 201
    assert post_with_key(shop_client, key).headers["idempotent-replayed"] == "true"
    assert product_count(shop_kernel) == 1


def test_a_key_expires_after_the_configured_time(boot_shop, api_client, monkeypatch):
    import datetime as dt

    from erp_core import idempotency
    from erp_core.db.types import utcnow

    kernel = boot_shop(idempotency_ttl_seconds=60)
    client = api_client(kernel)
    first = post_with_key(client, "order-1", {**PRODUCT, "sku": "TEA-1"})
    assert post_with_key(client, "order-1", {**PRODUCT, "sku": "TEA-1"}).json() == first.json()
    a_minute_later = utcnow() + dt.timedelta(seconds=61)  # the clock moves, no sleeping
    monkeypatch.setattr(idempotency, "utcnow", lambda: a_minute_later)
    later = post_with_key(client, "order-1", {**PRODUCT, "sku": "TEA-2"})
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert product_count(kernel) == 2


def test_the_key_lifetime_is_read_from_erp_idempotency_ttl():
    assert Settings.from_env({"ERP_IDEMPOTENCY_TTL": "90"}).idempotency_ttl_seconds == 90
    assert Settings.from_env({}).idempotency_ttl_seconds == 24 * 3600
    with pytest.raises(ConfigurationError, match="ERP_IDEMPOTENCY_TTL"):
        Settings.from_env({"ERP_IDEMPOTENCY_TTL": "a day"})


# Requests that overlap in the database

class HeldStatement:
    """An engine listener that holds the first statement starting with ``prefix`` (after
    it ran, inside its transaction) until ``release()``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.reached = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.holder_pid: int | None = None

    def __call__(self, connection: sa.Connection, _cursor: Any, statement: str,
                 *_args: Any) -> None:
        if not statement.startswith(self.prefix):
            return
        with self._lock:
            if self.reached.is_set():
                return
            if connection.dialect.name == "postgresql":
                self.holder_pid = connection.connection.dbapi_connection.info.backend_pid
            self.reached.set()
        self._released.wait(30)

    def release(self) -> None:
        self._released.set()


@contextmanager
def held_statement(kernel: Kernel, prefix: str) -> Iterator[HeldStatement]:
    held = HeldStatement(prefix)
    sa.event.listen(kernel.engine, "after_cursor_execute", held)
    try:
        yield held
    finally:
        held.release()
        sa.event.remove(kernel.engine, "after_cursor_execute", held)


def wait_until_someone_waits_for(kernel: Kernel, held: HeldStatement) -> None:
    """Return once another transaction waits for the held request: for its row (the
    held transaction itself) or for its ``Idempotency-Key`` (the key's row, which the
    request locks while it runs).

    PostgreSQL shows the waiter in ``pg_blocking_pids``. SQLite writers queue for the
    database lock (``BEGIN IMMEDIATE``, busy timeout) where nobody can see them, so the
    second request is given time to get there.
    """
    if held.holder_pid is None:
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    with kernel.engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND cardinality(pg_blocking_pids(pid)) > 0")).scalar_one()
            connection.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second request never waited for the first one's transaction")


def overlap(kernel: Kernel, prefix: str, first: Callable[[], Any],
            second: Callable[[], Any]) -> tuple[Any, Any]:
    """Run ``first`` until it has run a statement starting with ``prefix``, hold it there
    in its transaction, run ``second`` until it waits for ``first``, then let both finish."""
    with held_statement(kernel, prefix) as held, ThreadPoolExecutor(2) as pool:
        first_done = pool.submit(first)
        assert held.reached.wait(10), f"the first request never ran {prefix!r}"
        second_done = pool.submit(second)
        wait_until_someone_waits_for(kernel, held)
        held.release()
        return first_done.result(timeout=30), second_done.result(timeout=30)


@pytest.fixture(params=["one-app", "two-apps"])
def two_clients(request, shop_kernel, boot_shop, api_client) -> tuple[Any, Any]:
    """Two clients: of one app (two of its threads), or of two apps on two kernels, as two
    API processes on one database would be."""
    first = api_client(shop_kernel)
    second = first if request.param == "one-app" else api_client(boot_shop())
    return first, second


def test_two_concurrent_posts_with_one_key_create_exactly_one_record(shop_kernel, two_clients):
    first, second = two_clients
    responses = overlap(shop_kernel, "INSERT INTO shop_product ",
                        lambda: post_with_key(first, "order-1"),
                        lambda: post_with_key(second, "order-1"))
    assert [response.status_code for response in responses] == [201, 201], \
        [response.text for response in responses]
    assert responses[1].json() == responses[0].json()
    assert responses[1].headers["idempotent-replayed"] == "true"
    assert product_count(shop_kernel) == 1


def test_two_concurrent_patches_from_one_version_one_wins_and_the_other_gets_412(
        shop_kernel, two_clients):
    first, second = two_clients
    path = f"{PRODUCTS}/{first.post(PRODUCTS, json=PRODUCT).json()['id']}"
    responses = overlap(
        shop_kernel, "UPDATE shop_product ",
        lambda: first.patch(path, json={"name": "First"}, headers={"If-Match": '"1"'}),
        lambda: second.patch(path, json={"name": "Second"}, headers={"If-Match": '"1"'}))
    assert [response.status_code for response in responses] == [200, 412]
    current = first.get(path).json()
    assert (current["name"], current["version"]) == ("First", 2)
