"""Sign-in sessions of the web pages plugins serve (a dashboard): a user's API token
exchanged for a session of its own, kept in an HttpOnly cookie.

A session is an API token of the same user that expires after the session's lifetime and
is revoked at sign-out, so revocation, expiry and deactivation are checked on every
request exactly as for a bearer token, and no secret is stored. The CSRF token of a
session is derived from its secret (a keyed hash), so a page can put it in its forms and
a request that forged the cookie's companion field is refused, with nothing more stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import TYPE_CHECKING

import attrs
import sqlalchemy as sa

from erp_core.db.types import utcnow
from erp_core.errors import AuthenticationRequired
from erp_core.security.accounts import ApiToken, authenticate, create_token, hash_token
from erp_core.security.principal import Principal

if TYPE_CHECKING:
    from erp_core.context import KernelServices


@attrs.frozen
class WebSession:
    """A live session: ``secret`` goes in the cookie, ``csrf`` in the page's forms."""

    secret: str = attrs.field(repr=False)
    principal: Principal
    expires_at: dt.datetime

    @property
    def csrf(self) -> str:
        return csrf_of(self.secret)


def csrf_of(secret: str) -> str:
    return hmac.new(secret.encode(), b"csrf", hashlib.sha256).hexdigest()


class WebSessions:
    """Open, resume and close the web sessions of ``kernel``'s users."""

    def __init__(self, kernel: KernelServices) -> None:
        self.kernel = kernel

    def open(self, token: str, lifetime: dt.timedelta) -> WebSession:
        """A session for the holder of a live API ``token``, ending after ``lifetime``
        (or when the token would); ``AuthenticationRequired`` for a bad token."""
        with self.kernel.reading() as connection:
            principal = authenticate(connection, token.strip(), self.kernel.permissions)
            expiry = connection.execute(sa.select(ApiToken.expires_at).where(
                ApiToken.token_hash == hash_token(token.strip()))).scalar_one()
        expires_at = utcnow() + lifetime
        if expiry is not None:
            expires_at = min(expires_at, expiry)
        with self.kernel.transaction() as session:
            _row, secret = create_token(session, principal.name, expires_at)
        return WebSession(secret, principal, expires_at)

    def resume(self, secret: str | None) -> WebSession:
        """The session whose cookie holds ``secret``; ``AuthenticationRequired`` when it
        is missing, ended or expired."""
        if not secret:
            raise AuthenticationRequired("sign in first")
        with self.kernel.reading() as connection:
            principal = authenticate(connection, secret, self.kernel.permissions)
            expires_at = connection.execute(sa.select(ApiToken.expires_at).where(
                ApiToken.token_hash == hash_token(secret))).scalar_one()
        return WebSession(secret, principal, expires_at)

    def close(self, secret: str | None) -> None:
        """End the session (revoke its token); nothing happens for an unknown one."""
        if not secret:
            return
        with self.kernel.transaction() as session:
            session.execute(sa.update(ApiToken).where(
                ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow()))
