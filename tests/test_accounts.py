"""Users, API tokens and ``erp demo``'s admin token.

Tokens are shown once and stored as their SHA-256; expiry and revocation are checked on
every request. The CLI runs in-process through click's runner (``--database-url`` of the
test's database); ``erp demo`` runs as a real process serving real HTTP.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from kernel_testing import FIXTURE_PLUGINS, bearer
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.cli import main
from erp_core.db.types import utcnow
from erp_core.kernel import Kernel
from erp_core.security.accounts import (
    ApiToken,
    User,
    authenticate,
    create_token,
    create_user,
    revoke_token,
)

PROBLEM = "application/problem+json"
TICKETS = "/api/v1/desk/tickets"


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Kernel:
    use_plugins("desk")
    kernel.enable(["desk"])
    return kernel.boot()


@pytest.fixture
def client(desk: Kernel) -> Iterator[TestClient]:
    with TestClient(app=create_app(desk)) as client:
        yield client


@pytest.fixture
def erp(database_url: str) -> Callable[..., Result]:
    """Run ``erp --database-url <this test's database> ARGS...`` in-process."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, ["--database-url", database_url, *args],
                             env={"ERP_DATABASE_URL": None, "ERP_SKIP_BROKEN_PLUGINS": None})

    return run


def user_token(kernel: Kernel, name: str = "sam", *roles: str,
               expires_at: dt.datetime | None = None) -> tuple[int, str]:
    with kernel.transaction() as session:
        create_user(session, name, roles or ["desk.viewer"])
        token, secret = create_token(session, name, expires_at)
    return token.id, secret


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def every_stored_value(kernel: Kernel) -> str:
    """Every row of every table of the database, as one string."""
    reflected = sa.MetaData()
    with kernel.engine.connect() as connection:
        reflected.reflect(connection)
        return "\n".join(repr(row) for table in reflected.sorted_tables
                         for row in connection.execute(sa.select(table)))


# -- tokens ---------------------------------------------------------------------------------


def test_a_token_is_stored_as_its_hash_only(desk):
    _token_id, secret = user_token(desk)
    with desk.transaction() as session:
        stored = session.scalars(sa.select(ApiToken.token_hash)).one()
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    everything = every_stored_value(desk)
    assert stored in everything
    assert secret not in everything


def test_two_tokens_of_one_user_are_different_secrets(desk):
    with desk.transaction() as session:
        create_user(session, "sam")
        first = create_token(session, "sam")[1]
        second = create_token(session, "sam")[1]
    assert first != second
    assert len(first) >= 40


def test_a_valid_token_authenticates_its_user_with_the_roles_permissions(desk):
    _token_id, secret = user_token(desk, "sam", "desk.viewer")
    with desk.transaction() as session:
        principal = authenticate(session, secret, desk.permissions)
    assert (principal.name, principal.roles, principal.permissions) == (
        "sam", {"desk.viewer"}, {"desk.ticket.read"})


def test_a_valid_token_is_accepted(desk, client):
    _token_id, secret = user_token(desk)
    assert client.get(TICKETS, headers=bearer(secret)).status_code == 200


def test_an_unknown_token_is_401(client):
    assert_unauthenticated(client.get(TICKETS, headers=bearer("erp_not-a-token")))


def test_a_missing_token_is_401_telling_how_to_send_one(client):
    response = client.get(TICKETS)
    assert_unauthenticated(response)
    assert "Authorization: Bearer" in response.json()["detail"]


def test_an_authorization_header_that_is_not_bearer_is_401(desk, client):
    _token_id, secret = user_token(desk)
    assert_unauthenticated(client.get(TICKETS, headers={"Authorization": f"Basic {secret}"}))


def test_an_expired_token_is_401(desk, client):
    _token_id, secret = user_token(desk, expires_at=utcnow() - dt.timedelta(seconds=1))
    assert_unauthenticated(client.get(TICKETS, headers=bearer(secret)))


def test_a_token_that_has_not_expired_yet_is_accepted(desk, client):
    _token_id, secret = user_token(desk, expires_at=utcnow() + dt.timedelta(hours=1))
    assert client.get(TICKETS, headers=bearer(secret)).status_code == 200


def test_a_revoked_token_is_401_at_once(desk, client):
    token_id, secret = user_token(desk)
    assert client.get(TICKETS, headers=bearer(secret)).status_code == 200
    with desk.transaction() as session:
        revoke_token(session, token_id)
    assert_unauthenticated(client.get(TICKETS, headers=bearer(secret)))


def test_revoking_one_token_leaves_the_users_other_tokens_working(desk, client):
    token_id, _secret = user_token(desk)
    with desk.transaction() as session:
        other = create_token(session, "sam")[1]
        revoke_token(session, token_id)
    assert client.get(TICKETS, headers=bearer(other)).status_code == 200


def test_the_token_of_a_deactivated_user_is_401(desk, client):
    _token_id, secret = user_token(desk)
    with desk.transaction() as session:
        session.execute(sa.update(User).where(User.name == "sam").values(active=False))
    assert_unauthenticated(client.get(TICKETS, headers=bearer(secret)))


# -- erp users / tokens / roles ---------------------------------------------------------------


def listed_users(erp: Callable[..., Result]) -> dict[str, dict]:
    result = erp("users", "list", "--json")
    assert result.exit_code == 0, result.output
    return {user["name"]: user for user in json.loads(result.stdout)}


def cli_token(erp: Callable[..., Result], *args: str) -> str:
    result = erp("tokens", "create", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_users_create_grants_the_roles_given(desk, erp):
    result = erp("users", "create", "sam", "--role", "desk.viewer", "--role", "desk.agent")
    assert result.exit_code == 0, result.output
    assert listed_users(erp)["sam"]["roles"] == ["desk.agent", "desk.viewer"]


def test_users_create_without_a_role_makes_a_user_who_can_do_nothing(desk, erp, client):
    assert erp("users", "create", "sam").exit_code == 0
    assert listed_users(erp)["sam"]["roles"] == []
    token = cli_token(erp, "sam")
    assert client.get(TICKETS, headers=bearer(token)).status_code == 403


def test_users_create_with_an_unknown_role_fails_and_creates_nobody(desk, erp):
    result = erp("users", "create", "sam", "--role", "desk.wizard")
    assert result.exit_code == 1
    assert "unknown role 'desk.wizard'" in result.stderr
    assert "desk.agent" in result.stderr, "the error lists the known roles"
    assert "Traceback" not in result.output
    assert "sam" not in listed_users(erp)


def test_users_create_refuses_a_name_that_is_taken(desk, erp):
    assert erp("users", "create", "sam").exit_code == 0
    result = erp("users", "create", "sam")
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_users_create_with_a_scope_narrows_what_the_user_sees(desk, erp, client):
    with desk.context() as ctx:
        for customer in (7, 8):
            ctx.records("desk.ticket").create({"title": "t", "customer_id": customer})
    assert erp("users", "create", "cora", "--role", "desk.customer",
               "--scope", "customer_id=7").exit_code == 0
    response = client.get(TICKETS, headers=bearer(cli_token(erp, "cora")))
    assert [item["customer_id"] for item in response.json()["items"]] == [7]


def test_tokens_create_prints_the_token_once_and_it_works_against_the_api(desk, erp, client):
    assert erp("users", "create", "sam", "--role", "desk.viewer").exit_code == 0
    result = erp("tokens", "create", "sam")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    token = lines[0]
    assert token not in result.stderr
    assert client.get(TICKETS, headers=bearer(token)).status_code == 200
    listing = erp("tokens", "list", "sam")
    assert listing.exit_code == 0 and "active" in listing.stdout
    assert token not in listing.output
    assert token not in every_stored_value(desk)


def test_tokens_create_for_an_unknown_user_fails(desk, erp):
    result = erp("tokens", "create", "ghost")
    assert result.exit_code == 1
    assert "no user named 'ghost'" in result.stderr


def test_tokens_create_with_expires_sets_the_expiry(desk, erp, client):
    assert erp("users", "create", "sam", "--role", "desk.viewer").exit_code == 0
    before = utcnow()
    token = cli_token(erp, "sam", "--expires", "30d")
    with desk.transaction() as session:
        expires_at = session.scalars(sa.select(ApiToken.expires_at)).one()
    assert before + dt.timedelta(days=30) <= expires_at <= utcnow() + dt.timedelta(days=30)
    assert client.get(TICKETS, headers=bearer(token)).status_code == 200


def test_tokens_create_refuses_a_malformed_duration(desk, erp):
    assert erp("users", "create", "sam").exit_code == 0
    result = erp("tokens", "create", "sam", "--expires", "soon")
    assert result.exit_code == 1
    assert "'soon' is not a duration" in result.stderr


def test_tokens_revoke_takes_effect_at_once(desk, erp, client):
    assert erp("users", "create", "sam", "--role", "desk.viewer").exit_code == 0
    token = cli_token(erp, "sam")
    assert client.get(TICKETS, headers=bearer(token)).status_code == 200
    with desk.transaction() as session:
        token_id = session.scalars(sa.select(ApiToken.id)).one()
    result = erp("tokens", "revoke", str(token_id))
    assert result.exit_code == 0, result.output
    assert_unauthenticated(client.get(TICKETS, headers=bearer(token)))
    assert "revoked" in erp("tokens", "list", "sam").stdout


def test_tokens_revoke_of_an_unknown_id_fails(desk, erp):
    result = erp("tokens", "revoke", "999")
    assert result.exit_code == 1
    assert "no API token with id 999" in result.stderr


def test_roles_list_shows_each_role_with_its_permissions(desk, erp):
    result = erp("roles", "list", "--json")
    assert result.exit_code == 0, result.output
    roles = json.loads(result.stdout)
    assert roles["desk.viewer"] == ["desk.ticket.read"]
    assert roles["admin"] == sorted(desk.permissions.permissions)


# -- erp demo -----------------------------------------------------------------------------------

STARTUP_TIMEOUT = 60


def test_demo_prints_an_admin_token_that_works_over_http(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(FIXTURE_PLUGINS / "desk"), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    database = tmp_path / "demo.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "erp_core", "demo", "--port", "0", "--db", str(database)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=lambda: [*map(lines.put, process.stdout), lines.put(None)],
                         daemon=True).start()
        seen: list[str] = []
        while not seen or not seen[-1].startswith("API: "):
            line = lines.get(timeout=STARTUP_TIMEOUT)
            assert line is not None, f"erp demo exited before serving; stdout: {seen}"
            seen.append(line.rstrip("\n"))
        tokens = [line.removeprefix("Admin token: ") for line in seen
                  if line.startswith("Admin token: ")]
        assert len(tokens) == 1, seen
        url, _, reference = seen[-1].removeprefix("API: ").partition("  reference: ")
        assert reference == f"{url}/schema"
        audit = httpx.get(f"{url}/api/v1/kernel/audit", headers=bearer(tokens[0]), timeout=10)
        assert audit.status_code == 200
        assert "items" in audit.json()
        assert httpx.get(f"{url}/api/v1/kernel/audit", timeout=10).status_code == 401
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
