"""``Idempotency-Key``: a retried POST returns the first response and creates nothing new.

The key is inserted in the same transaction as the work it guards. Two concurrent
requests with one key therefore meet at the key's primary key: on PostgreSQL the second
insert waits for the first transaction and then fails, on SQLite the second transaction
waits for the write lock; either way the loser reads the winner's stored response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime, utcnow
from erp_core.errors import ValidationError

MAX_KEY_LENGTH = 200


class IdempotencyRecord(Base):
    """A remembered POST: who may replay it (the fingerprint) and what it answered."""

    __tablename__ = "kernel_idempotency_key"

    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    expires_at: Mapped[UtcDateTime] = mapped_column(index=True)


@attrs.frozen
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]
    replayed: bool = False


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join((method.encode(), path.encode(), body))).hexdigest()


class _KeyTaken(Exception):
    pass


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            {"Idempotency-Key": "invalid"})
    return key


def run_once(transaction: Callable[[], Any], key: str, print_: str, ttl_seconds: int,
             action: Callable[[Session], StoredResponse]) -> StoredResponse:
    """Run ``action`` in a new transaction unless ``key`` already answered this request.

    ``transaction`` opens a session in a transaction (``Kernel.transaction``). Errors
    raised by ``action`` roll everything back, key included, so a corrected retry with
    the same key runs again.
    """
    for _ in range(3):
        try:
            with transaction() as session:
                now = utcnow()
                record = session.get(IdempotencyRecord, key)
                if record is not None and record.expires_at > now and record.status_code:
                    if record.fingerprint != print_:
                        raise ValidationError(
                            "this Idempotency-Key was already used with a different request;"
                            " use a new key for a new request",
                            {"Idempotency-Key": "reused with a different request"})
                    return StoredResponse(record.status_code, json.loads(record.body or "null"),
                                          json.loads(record.headers or "{}"), replayed=True)
                if record is not None:
                    session.delete(record)
                    session.flush()
                record = IdempotencyRecord(key=key, fingerprint=print_, created_at=now,
                                           expires_at=now + dt.timedelta(seconds=ttl_seconds))
                session.add(record)
                try:
                    session.flush()
                except sa.exc.IntegrityError:
                    raise _KeyTaken from None
                response = action(session)
                record.status_code = response.status_code
                record.body = json.dumps(response.body)
                record.headers = json.dumps(response.headers)
                return response
        except _KeyTaken:
            continue
    raise ValidationError("this Idempotency-Key is in use by a request that keeps failing;"
                          " retry later", {"Idempotency-Key": "busy"})



def purge_expired_keys(session: Session, now: dt.datetime | None = None) -> int:
    """Forget the keys whose time to be remembered has passed; returns how many."""
    table = IdempotencyRecord.__table__
    result = session.execute(sa.delete(table).where(table.c.expires_at <= (now or utcnow())))
    return result.rowcount or 0
