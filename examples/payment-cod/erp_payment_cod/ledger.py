"""Where the driver keeps its payments between calls.

The ``PaymentProvider`` protocol hands ``capture`` and ``refund`` only a provider reference
and an amount, so the driver itself must remember what was authorized, captured and
refunded to refuse a double capture or an over-refund (the package README argues why this
cannot be carried in the ``PaymentResult`` instead). A ledger is that memory, kept small
and explicit: ``get`` and ``change``, where ``change`` reads a payment, applies a rule from
``erp_payment_cod.payment`` and stores the result as one atomic step.

- ``MemoryLedger``: a dict in this driver instance. Lost with the instance; for tests, demos
  and a single long-lived process that builds the driver once.
- ``SqliteLedger``: a SQLite file (standard library only). Survives restarts and is shared
  by every driver instance and process on the machine that opens the same file; each
  change runs in a ``BEGIN IMMEDIATE`` transaction, so two workers cannot both capture.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from typing import Protocol

from erp_payment_cod.payment import CodPayment

Change = Callable[[CodPayment | None], CodPayment]
"""A rule: the current payment (``None`` when unknown) -> the payment to store."""


class Ledger(Protocol):
    def get(self, provider_reference: str) -> CodPayment | None:
        """The payment as last stored, or ``None``."""

    def change(self, provider_reference: str, rule: Change) -> CodPayment:
        """Apply ``rule`` to the payment and store its result atomically; if ``rule``
        raises, nothing is stored and the error propagates."""


class MemoryLedger:
    """Payments in a dict of this instance, guarded by a lock for threaded callers."""

    def __init__(self) -> None:
        self._payments: dict[str, CodPayment] = {}
        self._lock = threading.Lock()

    def get(self, provider_reference: str) -> CodPayment | None:
        return self._payments.get(provider_reference)

    def change(self, provider_reference: str, rule: Change) -> CodPayment:
        with self._lock:
            payment = rule(self._payments.get(provider_reference))
            self._payments[provider_reference] = payment
            return payment


_SCHEMA = """
CREATE TABLE IF NOT EXISTS cod_payment (
    provider_reference TEXT PRIMARY KEY,
    order_reference TEXT NOT NULL,
    currency TEXT NOT NULL,
    authorized TEXT NOT NULL,
    captured TEXT NOT NULL,
    refunded TEXT NOT NULL,
    voided INTEGER NOT NULL,
    settled_by TEXT
)
"""
_COLUMNS = ("provider_reference", "order_reference", "currency", "authorized", "captured",
            "refunded", "voided", "settled_by")


class SqliteLedger:
    """Payments in a SQLite file; amounts are stored as decimal text, so they stay exact."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        with closing(self._connect()) as connection:
            connection.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun and ended explicitly below.
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def get(self, provider_reference: str) -> CodPayment | None:
        with closing(self._connect()) as connection:
            return self._read(connection, provider_reference)

    def change(self, provider_reference: str, rule: Change) -> CodPayment:
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                current = self._read(connection, provider_reference)
                payment = rule(current)
                if payment != current:
                    connection.execute(
                        f"INSERT OR REPLACE INTO cod_payment ({', '.join(_COLUMNS)})"
                        f" VALUES ({', '.join('?' * len(_COLUMNS))})",
                        (payment.provider_reference, payment.order_reference, payment.currency,
                         str(payment.authorized), str(payment.captured), str(payment.refunded),
                         int(payment.voided), payment.settled_by))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            return payment

    @staticmethod
    def _read(connection: sqlite3.Connection, provider_reference: str) -> CodPayment | None:
        row = connection.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM cod_payment WHERE provider_reference = ?",
            (provider_reference,)).fetchone()
        if row is None:
            return None
        reference, order, currency, authorized, captured, refunded, voided, settled_by = row
        return CodPayment(provider_reference=reference, order_reference=order,
                          currency=currency, authorized=Decimal(authorized),
                          captured=Decimal(captured), refunded=Decimal(refunded),
                          voided=bool(voided), settled_by=settled_by)
