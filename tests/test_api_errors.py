"""Bad input is a 4xx problem on every route, and no response shows the server's insides.

The routes are those of the test plugins: the generic routes of ``desk.ticket`` and the
hand-written JSON routes of ``flaky`` (a ``data`` parameter, as plugins write them), with
``desk_notes`` reacting to a ticket's 'start' (and failing with bad SQL on request).
Request ids, the safety headers and ``Idempotency-Key`` are checked on both kinds of
route; a lost PostgreSQL connection on a real server.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from api_client import assert_problem
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core import idempotency
from erp_core.api.app import create_app
from erp_core.db.types import utcnow
from erp_core.errors import ValidationError
from erp_core.kernel import Kernel
from erp_sdk.testing import serve

TICKETS = "/api/v1/desk/tickets"
TRIES = "/api/v1/flaky/tries"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def kernel(boot_plugins) -> Kernel:
    return boot_plugins("desk", "desk_notes", "flaky")


@pytest.fixture
def token(kernel, make_token) -> str:
    return make_token(kernel, "desk.agent")


@pytest.fixture
def client(kernel, token) -> Iterator[TestClient]:
    with TestClient(app=create_app(kernel)) as client:
        client.headers.update(bearer(token))
        yield client


def count(kernel: Kernel, table: str) -> int:
    with kernel.reading() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def a_try(title: str = "t", **fields: Any) -> dict[str, Any]:
    return {"key": uuid.uuid4().hex, "fail": 0, "title": title, **fields}


# -- request ids and headers ------------------------------------------------------------

def test_every_response_carries_a_request_id_and_nosniff(client):
    for response in (client.get("/health"), client.get(TICKETS),
                     client.get("/api/v1/no/such/route"), client.delete("/health")):
        assert len(response.headers["x-request-id"]) == 32, response.request.url
        assert response.headers["x-content-type-options"] == "nosniff"
    ids = {client.get("/health").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_sane_incoming_request_id_is_kept_and_an_insane_one_replaced(client):
    kept = client.get(TICKETS, headers={"X-Request-ID": "shop-42.retry:1"})
    assert kept.headers["x-request-id"] == "shop-42.retry:1"
    for insane in ("x" * 129, "two words", "<script>"):
        replaced = client.get(TICKETS, headers={"X-Request-ID": insane})
        assert replaced.headers["x-request-id"] != insane
        assert len(replaced.headers["x-request-id"]) == 32


def test_authenticated_responses_are_not_stored_by_caches(client):
    assert client.get(TICKETS).headers["cache-control"] == "no-store"
    refused = client.post(TICKETS, content=b"{", headers=JSON)
    assert refused.headers["cache-control"] == "no-store"
    client.headers.pop("Authorization")
    assert "cache-control" not in client.get("/health").headers


# -- bodies -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", [TICKETS, TRIES])
def test_a_body_not_declared_json_is_415(client, kernel, path):
    body = b'{"title": "t", "customer_id": 1, "key": "k", "fail": 0}'
    for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/xml"}):
        assert_problem(client.post(path, content=body, headers=headers), 415)
    assert count(kernel, "desk_ticket") == 0
    accepted = client.post(TRIES, content=body,
                           headers={"Content-Type": "application/json; charset=utf-8"})
    assert accepted.status_code == 201, accepted.text


@pytest.mark.parametrize("path", [TICKETS, TRIES])
@pytest.mark.parametrize("body", [b"[" * 100_000, b"{\"a\":" * 50_000, b"[" * 33 + b"]" * 33])
def test_deep_nesting_is_a_422_on_every_kind_of_route(client, kernel, caplog, path, body):
    with caplog.at_level(logging.WARNING):
        problem = assert_problem(client.post(path, content=body, headers=JSON), 422, "body")
    assert "deep" in problem["detail"]
    assert count(kernel, "desk_ticket") == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_nesting_within_the_limit_and_brackets_in_strings_are_fine(client):
    nested: Any = "x"
    for _ in range(30):
        nested = [nested]
    response = client.post(TRIES, json=a_try("[{" * 50, nested=nested))
    assert response.status_code == 201, response.text
    assert response.json()["sent"]["nested"] == nested


@pytest.mark.parametrize("path", [TICKETS, TRIES])
def test_malformed_json_is_a_422_problem(client, path):
    for body in (b"{", b'{"title": }', b"\xff\xfe", b'{"title": "t"} trailing'):
        assert_problem(client.post(path, content=body, headers=JSON), 422, "body")


def test_a_nul_character_in_a_body_is_a_422_naming_the_field(client, kernel, caplog):
    with caplog.at_level(logging.WARNING):
        on_data_route = client.post(TRIES, json=a_try("a\x00b"))
        nested = client.post(TRIES, json=a_try(extra={"notes": ["ok", "b\x00"]}))
        in_a_key = client.post(TRIES, json=a_try(extra={"k\x00": 1}))
    assert_problem(on_data_route, 422, "title")
    assert_problem(nested, 422, "extra.notes[1]")
    assert_problem(in_a_key, 422, "extra.k\x00")
    assert count(kernel, "desk_ticket") == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    escaped = client.post(TRIES, json=a_try("a\\u0000b"))  # a backslash, not a NUL
    assert escaped.status_code == 201, escaped.text


@pytest.mark.parametrize("url", [TICKETS + "?title=a%00b", TICKETS + "/1%00",
                                 TICKETS + "?sort=%00"])
def test_a_nul_character_in_the_url_is_a_4xx(client, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)


def test_a_body_of_the_wrong_type_is_a_422_like_on_the_generic_routes(client, kernel):
    typed = assert_problem(client.post(TRIES, json=["not", "an", "object"]), 422, "body")
    generic = assert_problem(client.post(TICKETS, json={"title": 5, "customer_id": 1}), 422,
                             "title")
    assert typed["type"] == generic["type"] == "https://erp.invalid/problems/validation"
    assert count(kernel, "desk_ticket") == 0


# -- failures of the server -------------------------------------------------------------

def test_a_failed_after_hook_is_a_500_with_a_request_id_and_no_sql(client, kernel, caplog):
    ticket = client.post(TICKETS, json={"title": "bad sql", "customer_id": 1}).json()
    with caplog.at_level(logging.ERROR, logger="erp.api"):
        response = client.post(f"{TICKETS}/{ticket['id']}/start",
                               headers={"X-Request-ID": "report-me-1"})
    problem = assert_problem(response, 500)
    assert problem["request_id"] == response.headers["x-request-id"] == "report-me-1"
    for secret in ("SELECT", "no_such_column", "s3cret-parameter", "desk_notes",
                   "OperationalError", "ProgrammingError"):
        assert secret not in response.text
    logged = "\n".join(r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records)
    assert "report-me-1" in logged and "no_such_column" in logged
    assert client.get(f"{TICKETS}/{ticket['id']}").json()["state"] == ticket["state"]


def test_a_value_the_database_refuses_is_a_validation_error_not_a_500(kernel):
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores any integer it can represent; PostgreSQL checks the column")
    with pytest.raises(ValidationError, match="out of range") as refused, \
            kernel.transaction() as session:
        session.execute(sa.text("SELECT CAST(:n AS integer)"), {"n": 2 ** 40})
    assert "SELECT" not in refused.value.message
    with pytest.raises(ValidationError, match="NUL"), kernel.transaction() as session:
        session.execute(sa.text("SELECT CAST(:text AS text)"), {"text": "a\x00b"})


# -- Idempotency-Key on a route a plugin wrote ------------------------------------------

def test_a_plugin_post_repeated_with_its_key_runs_once_and_replays(client, kernel):
    body = a_try("once")
    first = client.post(TRIES, json=body, headers={"Idempotency-Key": "k-1"})
    again = client.post(TRIES, json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert count(kernel, "desk_ticket") == 1


def test_a_plugin_post_key_reused_with_another_body_is_422(client, kernel):
    client.post(TRIES, json=a_try("one"), headers={"Idempotency-Key": "k-1"})
    assert_problem(client.post(TRIES, json=a_try("two"), headers={"Idempotency-Key": "k-1"}),
                   422, "Idempotency-Key")
    assert count(kernel, "desk_ticket") == 1


def test_a_refused_post_does_not_use_up_its_key(client, kernel):
    body = a_try("later")
    refused = client.post(TRIES, content=b"{", headers={**JSON, "Idempotency-Key": "k-1"})
    assert_problem(refused, 422)
    assert client.post(TRIES, json=body, headers={"Idempotency-Key": "k-1"}).status_code == 201
    assert count(kernel, "desk_ticket") == 1


def test_a_replay_needs_credentials_that_still_authenticate(client, kernel):
    body = a_try("mine")
    client.post(TRIES, json=body, headers={"Idempotency-Key": "k-1"})
    with kernel.transaction() as session:
        session.execute(sa.text("DELETE FROM kernel_api_token"))
    assert_problem(client.post(TRIES, json=body, headers={"Idempotency-Key": "k-1"}), 401)


def test_a_key_whose_request_never_finished_is_409_not_a_second_run(
        client, kernel, monkeypatch):
    body = a_try("crashed")
    print_ = idempotency.fingerprint("POST", TRIES, httpx.Request(
        "POST", "http://x", json=body).read())
    key = idempotency.scoped_key(client.headers["authorization"], "k-1")
    with kernel.engine.begin() as connection:  # claimed by a process that then died
        connection.execute(sa.insert(idempotency.IdempotencyRecord.__table__).values(
            key=key, fingerprint=print_, created_at=utcnow(), expires_at=utcnow().replace(
                year=utcnow().year + 1)))
    monkeypatch.setattr(idempotency, "WAIT_FOR_RUNNING_SECONDS", 0.2)
    problem = assert_problem(client.post(TRIES, json=body, headers={"Idempotency-Key": "k-1"}),
                             409)
    assert "still running" in problem["detail"]
    assert count(kernel, "desk_ticket") == 0


# -- a lost database connection (PostgreSQL) --------------------------------------------

def needs_postgresql(kernel: Kernel) -> None:
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: pg_terminate_backend cuts a server connection off")


def test_a_connection_cut_off_mid_request_is_run_again_not_a_500(kernel, token):
    needs_postgresql(kernel)
    key = uuid.uuid4().hex
    with serve(create_app(kernel)) as url:
        answer = httpx.post(f"{url}/api/v1/flaky/cut-off", headers=bearer(token),
                            json={"key": key, "title": "cut off"}, timeout=30)
    assert answer.status_code == 201, answer.text
    assert answer.json()["attempts"] == 2
    with kernel.reading() as connection:
        assert connection.execute(sa.text(
            "SELECT count(*) FROM desk_ticket WHERE title = 'cut off'")).scalar_one() == 1


def test_requests_after_the_servers_connections_were_terminated_succeed(kernel, token):
    needs_postgresql(kernel)
    backends: set[int] = set()
    sa.event.listen(kernel.engine, "connect",
                    lambda dbapi_connection, _record: backends.add(
                        dbapi_connection.info.backend_pid))
    kernel.engine.dispose()  # every connection the server uses is opened from now on
    with serve(create_app(kernel)) as url, httpx.Client(base_url=url, timeout=30,
                                                       headers=bearer(token)) as http:
        statuses = [http.post("/api/v1/desk/tickets",
                              json={"title": f"before {n}", "customer_id": 1}).status_code
                    for n in range(5)]
        operator = sa.create_engine(kernel.engine.url, poolclass=sa.pool.NullPool)
        with operator.connect() as admin:  # from outside the server's pool
            killed = admin.execute(sa.text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM"
                " unnest(CAST(:pids AS integer[])) AS pid"), {"pids": sorted(backends)}
            ).scalar_one()
        operator.dispose()
        assert killed >= 1
        statuses += [http.post("/api/v1/desk/tickets",
                               json={"title": f"after {n}", "customer_id": 1}).status_code
                     for n in range(5)]
        statuses += [http.get("/api/v1/desk/tickets").status_code for _ in range(3)]
    assert statuses == [201] * 10 + [200] * 3
