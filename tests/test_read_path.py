"""Reading a record through the API costs the statements it needs and nothing more: the
token and the record are read on one connection, outside any transaction, so no BEGIN,
COMMIT or second connection is paid per GET; the guard's promises still hold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from api_client import *  # noqa: F403  (fixtures of the shop app)
from api_client import PRODUCTS, assert_problem

from erp_core.kernel import Kernel
from erp_core.security.accounts import list_tokens, revoke_token


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether the database holds a transaction open on this driver connection."""
    if hasattr(dbapi_connection, "in_transaction"):  # sqlite3
        return bool(dbapi_connection.in_transaction)
    return dbapi_connection.info.transaction_status.name != "IDLE"  # psycopg


@contextmanager
def statements_of(kernel: Kernel) -> Iterator[list[tuple[int, str, bool]]]:
    """(driver connection id, SQL, whether it ran inside a transaction) of every statement
    the kernel's engine sends while the block runs."""
    seen: list[tuple[int, str, bool]] = []

    def record(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        raw = connection.connection.dbapi_connection
        seen.append((id(raw), statement, _in_transaction(raw)))

    sa.event.listen(kernel.engine, "after_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(kernel.engine, "after_cursor_execute", record)


def test_getting_a_record_reads_the_token_and_the_record_on_one_connection_without_a_transaction(
        shop_client, shop_kernel, make_product):
    product = make_product()
    with statements_of(shop_kernel) as seen:
        response = shop_client.get(f"{PRODUCTS}/{product['id']}")
    assert response.status_code == 200, response.text
    assert len(seen) == 2, seen  # the token's holder, then the record
    assert not any(in_transaction for _, _, in_transaction in seen), seen
    assert len({connection for connection, _, _ in seen}) == 1


def test_listing_records_reads_on_one_connection_without_a_transaction(
        shop_client, shop_kernel, make_product):
    make_product()
    with statements_of(shop_kernel) as seen:
        response = shop_client.get(PRODUCTS, params={"total": "true"})
    assert response.status_code == 200, response.text
    assert len(seen) == 3, seen  # the token's holder, the count, the page
    assert not any(in_transaction for _, _, in_transaction in seen), seen
    assert len({connection for connection, _, _ in seen}) == 1


def test_a_read_without_a_token_is_401_before_any_statement(shop_client, shop_kernel,
                                                            make_product):
    product = make_product()
    with statements_of(shop_kernel) as seen:
        response = shop_client.get(f"{PRODUCTS}/{product['id']}",
                                   headers={"Authorization": ""})
    assert_problem(response, 401)
    assert seen == []


def test_a_read_with_a_revoked_token_is_401(shop_client, shop_kernel, make_product,
                                            make_token):
    product = make_product()
    token = make_token(shop_kernel, "admin", name="leaving")
    headers = {"Authorization": f"Bearer {token}"}
    assert shop_client.get(f"{PRODUCTS}/{product['id']}", headers=headers).status_code == 200
    with shop_kernel.transaction() as session:
        (stored,) = list_tokens(session, "leaving")
        revoke_token(session, stored.id)
    assert_problem(shop_client.get(f"{PRODUCTS}/{product['id']}", headers=headers), 401)
    assert_problem(shop_client.get(PRODUCTS, headers=headers), 401)


def test_a_read_without_the_permission_is_403(shop_client, shop_kernel, make_product,
                                              make_token):
    product = make_product()
    token = make_token(shop_kernel, name="nobody")
    response = shop_client.get(f"{PRODUCTS}/{product['id']}",
                               headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 403)
