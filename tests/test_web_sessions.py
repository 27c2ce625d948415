"""Web sessions (``erp_sdk.WebSessions``): a user's token exchanged for a session of its
own that ends at sign-out, at expiry or with the user; and a user's principal for work
done later on its behalf (``Kernel.principal_of_user``)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from erp_core.errors import AuthenticationRequired
from erp_core.security.accounts import User, create_token, create_user
from erp_core.security.web_sessions import WebSessions, csrf_of


@pytest.fixture
def booted(kernel):
    kernel.boot()
    with kernel.transaction() as session:
        create_user(session, "ada", ["admin"], {"channel_id": [3]})
        _row, token = create_token(session, "ada")
    return kernel, token


def test_a_token_opens_a_session_that_resumes_as_its_user(booted):
    kernel, token = booted
    opened = WebSessions(kernel).open(token, dt.timedelta(hours=1))
    assert opened.secret != token and opened.principal.name == "ada"
    resumed = WebSessions(kernel).resume(opened.secret)
    assert resumed.principal.roles == {"admin"} and resumed.csrf == csrf_of(opened.secret)
    assert resumed.csrf != csrf_of(token)


def test_a_closed_or_expired_session_or_a_bad_token_is_refused(booted):
    kernel, token = booted
    sessions = WebSessions(kernel)
    with pytest.raises(AuthenticationRequired):
        sessions.open("erp_nothing", dt.timedelta(hours=1))
    closed = sessions.open(token, dt.timedelta(hours=1))
    sessions.close(closed.secret)
    with pytest.raises(AuthenticationRequired):
        sessions.resume(closed.secret)
    short = sessions.open(token, dt.timedelta(seconds=1))
    time.sleep(1.2)
    with pytest.raises(AuthenticationRequired):
        sessions.resume(short.secret)
    with pytest.raises(AuthenticationRequired):
        sessions.resume(None)


def test_a_users_principal_has_its_roles_and_scope_until_it_is_deactivated(booted):
    kernel, _token = booted
    with kernel.reading() as connection:
        user_id = connection.execute(sa.select(User.id).where(User.name == "ada")).scalar_one()
    principal = kernel.principal_of_user(user_id)
    assert principal.name == "ada" and principal.scope == {"channel_id": frozenset({3})}
    assert principal.can("kernel.plugin.read")
    with kernel.transaction() as session:
        session.execute(sa.update(User).where(User.id == user_id).values(active=False))
    with pytest.raises(AuthenticationRequired):
        kernel.principal_of_user(user_id)
