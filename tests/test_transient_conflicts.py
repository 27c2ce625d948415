"""Transient conflicts: a transaction the database aborted because it clashed with a
concurrent one (a deadlock) is raised as ``TransientConflict``; ``Kernel.run`` and every
HTTP request run the work again from the start, a bounded number of times, and nothing
of a failed attempt is kept.

Real deadlocks need PostgreSQL (SQLite's writers take turns and never deadlock); the
retrying itself is checked on both databases with work that raises the error.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from kernel_testing import bearer

from erp_core.api.app import create_app
from erp_core.errors import ConfigurationError, ConflictError, TransientConflict
from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_sdk.testing import serve

PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def boot_desk(boot_plugins) -> Callable[..., Kernel]:
    return lambda **settings: boot_plugins("desk", "flaky", **settings)


def tickets(kernel: Kernel, title: str) -> int:
    with kernel.reading() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM desk_ticket WHERE title = :t"),
                                  {"t": title}).scalar_one()


def new_tickets(kernel: Kernel, *titles: str) -> list[int]:
    with kernel.context() as ctx:
        return [ctx.records("desk.ticket").create({"title": t, "customer_id": 1})["id"]
                for t in titles]


def needs_postgresql(kernel: Kernel) -> None:
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's writers take turns and never deadlock")


# -- the database's deadlock becomes a TransientConflict --------------------------------

def lock_in_order(kernel: Kernel, first: int, second: int, meet: threading.Barrier,
                  attempts: list[int] | None = None) -> Callable[..., None]:
    """Work that changes ticket ``first`` then ``second``, meeting the other worker at
    ``meet`` in between on its first attempt (so that two in opposite orders deadlock)."""
    table = sa.table("desk_ticket", sa.column("id"), sa.column("title"))
    runs: list[int] = [] if attempts is None else attempts

    def work(ctx) -> None:
        runs.append(first)
        for ticket_id in (first, second):
            ctx.session.execute(sa.update(table).where(table.c.id == ticket_id)
                                .values(title=table.c.title + f"<{first}>"))
            if ticket_id == first and runs.count(first) == 1:
                meet.wait(timeout=10)

    return work


def test_a_deadlock_is_raised_as_a_transient_conflict_and_nothing_of_it_is_kept(boot_desk):
    kernel = boot_desk()
    needs_postgresql(kernel)
    a, b = new_tickets(kernel, "a", "b")
    meet = threading.Barrier(2)

    def once(first: int, second: int) -> BaseException | None:
        try:
            with kernel.context() as ctx:
                lock_in_order(kernel, first, second, meet)(ctx)
        except Exception as exc:
            return exc
        return None

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(once, (a, b), (b, a)))
    [error] = [o for o in outcomes if o is not None]
    assert isinstance(error, TransientConflict)
    assert error.__cause__.sqlstate == "40P01"  # deadlock_detected
    assert "send the same request again" in error.message
    winner = a if outcomes[0] is None else b
    with kernel.reading() as connection:
        titles = dict(connection.execute(sa.text("SELECT id, title FROM desk_ticket")).all())
    assert titles == {a: f"a<{winner}>", b: f"b<{winner}>"}


def test_run_runs_deadlocked_work_again_until_it_succeeds(boot_desk):
    kernel = boot_desk()
    needs_postgresql(kernel)
    a, b = new_tickets(kernel, "a", "b")
    meet, runs = threading.Barrier(2), []
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda pair: kernel.run(lock_in_order(kernel, *pair, meet, runs)),
                      ((a, b), (b, a))))
    assert sorted(runs) in ([a, a, b], [a, b, b])  # the loser ran twice
    with kernel.reading() as connection:
        titles = dict(connection.execute(sa.text("SELECT id, title FROM desk_ticket")).all())
    for ticket_id, title in titles.items():  # each change made once, none lost
        assert sorted([title.count(f"<{a}>"), title.count(f"<{b}>")]) == [1, 1], ticket_id


# -- Kernel.run -------------------------------------------------------------------------

def flaky_work(failures: int, title: str, calls: list[int]) -> Callable[..., int]:
    """Work that creates a ticket, then fails transiently on its first ``failures`` runs."""

    def work(ctx) -> int:
        calls.append(1)
        ticket = ctx.records("desk.ticket").create({"title": title, "customer_id": 1})
        if len(calls) <= failures:
            raise TransientConflict("a concurrent transaction got in the way")
        return ticket["id"]

    return work


def test_run_runs_the_work_again_in_a_new_transaction(boot_desk):
    kernel = boot_desk()
    calls: list[int] = []
    ticket_id = kernel.run(flaky_work(2, "third time lucky", calls))
    assert len(calls) == 3
    assert tickets(kernel, "third time lucky") == 1  # the failed attempts left nothing
    with kernel.context() as ctx:
        assert ctx.records("desk.ticket").get(ticket_id)["title"] == "third time lucky"


def test_run_gives_up_after_the_configured_attempts(boot_desk):
    kernel = boot_desk(transaction_attempts=3)
    calls: list[int] = []
    with pytest.raises(TransientConflict):
        kernel.run(flaky_work(99, "never", calls))
    assert len(calls) == 3
    assert tickets(kernel, "never") == 0


def test_run_does_not_run_work_again_for_other_errors(boot_desk):
    kernel = boot_desk()
    calls: list[int] = []

    def refused(ctx) -> None:
        calls.append(1)
        raise ConflictError("not in a state to do that")

    with pytest.raises(ConflictError):
        kernel.run(refused)
    assert calls == [1]


def test_run_does_not_run_work_again_that_committed_part_of_itself(boot_desk):
    kernel = boot_desk()
    calls: list[int] = []

    def work(ctx) -> None:
        calls.append(1)
        with kernel.context() as other:  # a transaction of its own, committed
            other.records("desk.ticket").create({"title": "committed", "customer_id": 1})
        raise TransientConflict("a concurrent transaction got in the way")

    with pytest.raises(TransientConflict):
        kernel.run(work)
    assert calls == [1]
    assert tickets(kernel, "committed") == 1


def test_the_attempts_setting():
    assert Settings.from_env({}).transaction_attempts == 5
    assert Settings.from_env({"ERP_TRANSACTION_ATTEMPTS": "1"}).transaction_attempts == 1
    for bad in ("0", "twice"):
        with pytest.raises(ConfigurationError, match="ERP_TRANSACTION_ATTEMPTS"):
            Settings.from_env({"ERP_TRANSACTION_ATTEMPTS": bad})


# -- HTTP requests are run again --------------------------------------------------------

def post(url: str, token: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/flaky/{path}", json=body, headers=bearer(token),
                      timeout=30)


def test_a_request_is_run_again_with_its_body_and_the_client_sees_only_the_success(
        boot_desk, make_token):
    kernel = boot_desk()
    token = make_token(kernel, "desk.agent")
    key, title = uuid.uuid4().hex, "x" * 100  # a body longer than a chunk would be fine too
    with serve(create_app(kernel)) as url:
        answer = post(url, token, "tries", {"key": key, "fail": 2, "title": title})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"attempts": 3, "ticket_id": answer.json()["ticket_id"],
                             "sent": {"key": key, "fail": 2, "title": title}}
    assert tickets(kernel, title) == 1


def test_after_the_last_attempt_the_client_gets_503_and_nothing_is_written(
        boot_desk, make_token):
    kernel = boot_desk(transaction_attempts=2)
    token = make_token(kernel, "desk.agent")
    key = uuid.uuid4().hex
    with serve(create_app(kernel)) as url:
        answer = post(url, token, "tries", {"key": key, "fail": 5, "title": key})
    assert answer.status_code == 503
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["type"].endswith("/transient-conflict")
    assert answer.json()["detail"] == "a concurrent transaction got in the way"
    assert tickets(kernel, key) == 0
    from erp_test_flaky.plugin import ATTEMPTS

    assert ATTEMPTS[key] == 2


def test_one_attempt_means_the_first_transient_conflict_is_answered(boot_desk, make_token):
    kernel = boot_desk(transaction_attempts=1)
    token = make_token(kernel, "desk.agent")
    key = uuid.uuid4().hex
    with serve(create_app(kernel)) as url:
        assert post(url, token, "tries", {"key": key, "fail": 1, "title": key}
                    ).status_code == 503
    from erp_test_flaky.plugin import ATTEMPTS

    assert ATTEMPTS[key] == 1


@pytest.mark.parametrize(("first", "attempts", "status"), [("read", 2, 201), ("write", 1, 503)])
def test_a_request_that_committed_a_write_is_not_run_again(boot_desk, make_token, first,
                                                           attempts, status):
    """Running it again would repeat what it committed: the client gets the 503 and
    decides. A transaction that only read does not count."""
    kernel = boot_desk()
    token = make_token(kernel, "desk.agent")
    key = uuid.uuid4().hex
    with serve(create_app(kernel)) as url:
        answer = post(url, token, "tries", {"key": key, "fail": 1, "title": key,
                                            "first": first})
    from erp_test_flaky.plugin import ATTEMPTS

    assert (answer.status_code, ATTEMPTS[key]) == (status, attempts)
    assert tickets(kernel, "first") == (1 if first == "write" else 0)


def test_an_uploaded_file_is_read_again_by_the_next_attempt(boot_desk, make_token):
    """Litestar caches the parsed form, whose files it closes after the response: each
    attempt starts from the request as it arrived."""
    kernel = boot_desk()
    token = make_token(kernel, "desk.agent")
    name = f"{uuid.uuid4().hex}.txt"
    with serve(create_app(kernel)) as url:
        answer = httpx.post(f"{url}/api/v1/flaky/upload", headers=bearer(token), timeout=30,
                            files={"data": (name, b"line one\nline two\n", "text/plain")})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"attempts": 2, "content": "line one\nline two\n"}


def test_two_requests_that_deadlock_both_succeed(boot_desk, make_token):
    kernel = boot_desk()
    needs_postgresql(kernel)
    token = make_token(kernel, "desk.agent")
    a, b = new_tickets(kernel, "a", "b")
    from erp_test_flaky.plugin import PAIRS

    meet = uuid.uuid4().hex
    PAIRS[meet] = threading.Barrier(2)
    marks = [f"<{uuid.uuid4().hex[:6]}>" for _ in range(2)]
    with serve(create_app(kernel)) as url, ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(
            lambda call: post(url, token, "lock-pair", call),
            ({"first": a, "second": b, "mark": marks[0], "meet": meet},
             {"first": b, "second": a, "mark": marks[1], "meet": meet})))
    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    assert sorted(r.json()["attempts"] for r in answers) == [1, 2]
    with kernel.reading() as connection:
        for title in connection.execute(sa.text("SELECT title FROM desk_ticket")).scalars():
            assert sorted(title.count(m) for m in marks) == [1, 1], title


def test_a_body_too_large_to_keep_for_another_attempt_is_refused_as_before(
        boot_desk, make_token):
    kernel = boot_desk()
    token = make_token(kernel, "desk.agent")
    with serve(create_app(kernel)) as url:
        answer = httpx.post(f"{url}/api/v1/flaky/tries", headers={
            **bearer(token), "Content-Type": "application/json"},
            content=b'{"key": "big", "fail": 0, "title": "' + b"x" * 10_500_000 + b'"}',
            timeout=30)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM_JSON


def drive_middleware(chunks: int, fail: int) -> tuple[list[int], list[list[bytes]], list[dict]]:
    """Run ``RetryTransient`` on an app that reads the whole body, then answers a
    transient conflict on its first ``fail`` attempts; returns how many chunks the client
    had sent when each attempt began, what each attempt read, and what reached the
    client."""
    import anyio

    from erp_core.api.retry import RetryTransient, mark_transient

    delivered: list[int] = []
    began: list[int] = []
    read: list[list[bytes]] = []
    sent: list[dict] = []

    async def receive() -> dict:
        delivered.append(1)
        return {"type": "http.request", "body": b"%03d" % len(delivered) + b"x" * 999_997,
                "more_body": len(delivered) < chunks}

    async def app(scope, receive, send) -> None:
        began.append(len(delivered))
        read.append([])
        while True:
            message = await receive()
            read[-1].append(message["body"][:3])
            if not message["more_body"]:
                break
        if len(began) <= fail:
            mark_transient(scope)
            await send({"type": "http.response.start", "status": 503, "headers": []})
        else:
            await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "state": {}}
    anyio.run(RetryTransient(app, attempts=5), scope, receive, send)
    return began, read, sent


def test_the_retrying_middleware_replays_the_body_it_recorded_as_the_app_read_it():
    began, read, sent = drive_middleware(chunks=3, fail=2)
    assert began == [0, 3, 3]  # nothing read before the app; the client sent it once
    assert read == [[b"001", b"002", b"003"]] * 3
    assert [m["status"] for m in sent] == [200]


def test_a_body_past_the_limit_gets_a_single_attempt():
    """Past Litestar's body limit the middleware keeps nothing: the request is answered
    as its only attempt ended."""
    began, read, sent = drive_middleware(chunks=12, fail=1)
    assert began == [0] and len(read[0]) == 12
    assert [m["status"] for m in sent] == [503]
