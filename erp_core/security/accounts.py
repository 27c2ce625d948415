"""Users, their roles and their API tokens (kernel tables).

A token is shown once, when it is made; the database keeps only its SHA-256. Tokens are
256-bit random values, so a fast hash is enough (there is nothing to brute-force) and
the lookup is one indexed query per request. Revocation and expiry are checked on every
request, so they take effect at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime, utcnow
from erp_core.errors import AuthenticationRequired, ConflictError, NotFoundError, ValidationError
from erp_core.security.permissions import PermissionRegistry
from erp_core.security.principal import Principal

TOKEN_PREFIX = "erp_"
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}$")


class User(Base):
    __tablename__ = "kernel_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    scope: Mapped[str] = mapped_column(sa.Text, default="{}")
    created_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)


class UserRole(Base):
    __tablename__ = "kernel_user_role"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("kernel_user.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(120), primary_key=True)


class ApiToken(Base):
    __tablename__ = "kernel_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("kernel_user.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    expires_at: Mapped[UtcDateTime | None]
    revoked_at: Mapped[UtcDateTime | None]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(session: Session, name: str) -> User:
    user = session.scalar(sa.select(User).where(User.name == name))
    if user is None:
        raise NotFoundError(f"no user named {name!r}; create it with `erp users create {name}`")
    return user


def create_user(session: Session, name: str, roles: Iterable[str] = (),
                scope: Mapping[str, Any] | None = None,
                known_roles: Iterable[str] | None = None) -> User:
    """A new user; ``roles`` must be known roles when ``known_roles`` is given."""
    if not _USER_NAME.match(name):
        raise ValidationError(f"user name {name!r} must be 1-80 letters, digits, or _ . @ -",
                              {"name": "invalid"})
    roles = list(dict.fromkeys(roles))
    if known_roles is not None:
        unknown = sorted(set(roles) - set(known_roles))
        if unknown:
            raise ValidationError(f"unknown role {unknown[0]!r}; known roles:"
                                  f" {', '.join(sorted(known_roles))}", {"role": "unknown"})
    if session.scalar(sa.select(User.id).where(User.name == name)) is not None:
        raise ConflictError(f"a user named {name!r} already exists")
    user = User(name=name, scope=json.dumps(dict(scope or {}), sort_keys=True))
    session.add(user)
    session.flush()
    session.add_all(UserRole(user_id=user.id, role=role) for role in roles)
    session.flush()
    return user


def create_token(session: Session, user_name: str,
                 expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for the user: the stored row and the secret, which is never stored."""
    user = _user(session, user_name)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=hash_token(secret), expires_at=expires_at)
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(f"no API token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def list_users(session: Session) -> list[dict[str, Any]]:
    roles: dict[int, list[str]] = {}
    for user_id, role in session.execute(sa.select(UserRole.user_id, UserRole.role)
                                         .order_by(UserRole.role)):
        roles.setdefault(user_id, []).append(role)
    return [{"id": u.id, "name": u.name, "active": u.active, "roles": roles.get(u.id, []),
             "scope": json.loads(u.scope)}
            for u in session.scalars(sa.select(User).order_by(User.name))]


def list_tokens(session: Session, user_name: str) -> list[ApiToken]:
    user = _user(session, user_name)
    return list(session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id)))


_TOKEN_HOLDER = (
    sa.select(User.id, User.name, User.scope, ApiToken.expires_at, ApiToken.revoked_at,
              UserRole.role)
    .join(ApiToken, ApiToken.user_id == User.id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(ApiToken.token_hash == sa.bindparam("token_hash"), User.active))
"""The user, roles and token state behind a token hash, built once (read per request)."""


_USER_ROLES = (
    sa.select(User.id, User.name, User.scope, UserRole.role)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(User.id == sa.bindparam("user_id"), User.active))


def principal_of_user(session: Session | sa.Connection, user_id: int,
                      permissions: PermissionRegistry) -> Principal:
    """The principal of an active user, with the roles and scope it has now, for work
    done later on its behalf (an export it queued); ``AuthenticationRequired`` when the
    user is gone or deactivated."""
    rows = session.execute(_USER_ROLES, {"user_id": user_id}).all()
    if not rows:
        raise AuthenticationRequired(f"user {user_id} is unknown or deactivated")
    roles = frozenset(r.role for r in rows if r.role is not None)
    return Principal(name=rows[0].name, user_id=rows[0].id, roles=roles,
                     permissions=permissions.permissions_of(roles),
                     scope=json.loads(rows[0].scope or "{}"))


def authenticate(session: Session | sa.Connection, secret: str,
                 permissions: PermissionRegistry) -> Principal:
    """The principal behind a bearer token; raises ``AuthenticationRequired`` if it is not
    a live token of an active user. One read, so an autocommit connection suffices."""
    now = utcnow()
    rows = session.execute(_TOKEN_HOLDER, {"token_hash": hash_token(secret)}).all()
    row = rows[0] if rows else None
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        raise AuthenticationRequired("the bearer token is unknown, expired or revoked")
    roles = frozenset(r.role for r in rows if r.role is not None)
    return Principal(name=row.name, user_id=row.id, roles=roles,
                     permissions=permissions.permissions_of(roles),
                     scope=json.loads(row.scope or "{}"))
