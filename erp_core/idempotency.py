"""``Idempotency-Key``: a repeated POST returns the first response and does nothing twice.

A key is claimed before the request runs: a row committed "in progress", under the
sender's credentials and the key, with a fingerprint of the request (method, path, body).
When the request is answered, a success (or any answer after part of the work committed)
is stored in the row for the key's lifetime; any other answer gives the key up, so that a
corrected request may use it again. A request that finds its key:

- answered, with the same fingerprint: gets the stored response, replayed;
- answered or running, with another fingerprint: 422, a new request needs a new key;
- running (a concurrent repeat): waits for the first to finish, then as above. On
  PostgreSQL the request that claimed the key holds a lock on its row while it runs, so
  the repeat waits in the database; SQLite's repeat looks again every few milliseconds.

A process that dies while running a request leaves its key "in progress" (its work may
have committed): a repeat gets 409 until the key expires, never a second run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime, utcnow
from erp_core.errors import ConflictError, ValidationError

MAX_KEY_LENGTH = 200
WAIT_FOR_RUNNING_SECONDS = 30.0
"""How long a repeat waits for the request that claimed its key before a 409."""
_LOOK_AGAIN_SECONDS = 0.02


class IdempotencyRecord(Base):
    """A claimed key: who may replay it (the fingerprint) and what it answered (nothing
    yet while its request runs)."""

    __tablename__ = "kernel_idempotency_key"

    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    expires_at: Mapped[UtcDateTime] = mapped_column(index=True)


_KEYS = IdempotencyRecord.__table__


@attrs.frozen
class StoredResponse:
    status_code: int
    body: bytes
    headers: Mapping[str, str]


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            {"Idempotency-Key": "invalid"})
    return key


def scoped_key(credentials: str, key: str) -> str:
    """The stored key: the client's key within the credentials that sent it, so that two
    clients never see each other's responses."""
    return hashlib.sha256(f"{credentials}\0{check_key(key)}".encode()).hexdigest()


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join((method.encode(), path.encode(), body))).hexdigest()


@attrs.define
class Claim:
    """A key this process runs a request under; ``holder`` keeps its row locked on
    PostgreSQL until the request is answered."""

    engine: sa.Engine
    key: str
    holder: sa.Connection | None = None

    def finish(self, response: StoredResponse | None) -> None:
        """Store ``response`` for repeats, or with ``None`` give the key up."""
        if response is None:
            statement: Any = sa.delete(_KEYS).where(_KEYS.c.key == self.key)
        else:
            statement = sa.update(_KEYS).where(_KEYS.c.key == self.key).values(
                status_code=response.status_code, body=response.body.decode("utf-8", "replace"),
                headers=json.dumps(dict(response.headers)))
        if self.holder is None:
            with self.engine.begin() as connection:
                connection.execute(statement)
            return
        try:
            self.holder.execute(statement)
            self.holder.commit()
        finally:
            self.holder.close()


def claim(engine: sa.Engine, key: str, print_: str, ttl_seconds: int) -> Claim | StoredResponse:
    """Claim ``key`` for a request with fingerprint ``print_``, or the stored response of
    the request that had it (see the module's docstring)."""
    deadline = time.monotonic() + WAIT_FOR_RUNNING_SECONDS
    while True:
        taken = False
        try:
            with engine.begin() as connection:
                now = utcnow()
                row = connection.execute(sa.select(_KEYS).where(_KEYS.c.key == key)).first()
                if row is not None and row.expires_at > now:
                    if row.fingerprint != print_:
                        raise ValidationError(
                            "this Idempotency-Key was already used with a different request;"
                            " use a new key for a new request",
                            {"Idempotency-Key": "reused with a different request"})
                    if row.status_code is not None:
                        return StoredResponse(row.status_code, (row.body or "").encode(),
                                              json.loads(row.headers or "{}"))
                else:
                    if row is not None:
                        connection.execute(sa.delete(_KEYS).where(_KEYS.c.key == key))
                    connection.execute(sa.insert(_KEYS).values(
                        key=key, fingerprint=print_, created_at=now,
                        expires_at=now + dt.timedelta(seconds=ttl_seconds)))
                    taken = True
        except sa.exc.IntegrityError:
            pass  # a concurrent repeat claimed it first: wait for it
        if taken:
            return Claim(engine, key, _lock_row(engine, key))
        if time.monotonic() > deadline:
            raise ConflictError("a request with this Idempotency-Key is still running;"
                                " send it again later")
        _wait_for_row(engine, key)


def _lock_row(engine: sa.Engine, key: str) -> sa.Connection | None:
    if engine.dialect.name != "postgresql":
        return None
    holder = engine.connect()
    holder.execute(sa.select(_KEYS.c.key).where(_KEYS.c.key == key).with_for_update())
    return holder


def _wait_for_row(engine: sa.Engine, key: str) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:  # returns when the claiming request is answered
            connection.execute(sa.select(_KEYS.c.key).where(_KEYS.c.key == key)
                               .with_for_update())
            connection.rollback()
    time.sleep(_LOOK_AGAIN_SECONDS)


def purge_expired_keys(session: Session, now: dt.datetime | None = None) -> int:
    """Forget the keys whose time to be remembered has passed; returns how many."""
    result = session.execute(sa.delete(_KEYS).where(_KEYS.c.expires_at <= (now or utcnow())))
    return result.rowcount or 0
