"""Opening a carrier account's driver.

A driver is built once per account version and kept by the kernel's process (a driver
may keep connections, or, like the table-rate example, what it booked); a changed account
(new version) gets a new driver. Drivers are called outside database transactions.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_logistics.carriers import CarrierAccount, CarrierService
from erp_sdk import Kernel, NotFoundError
from erp_sdk.drivers import Address, Carrier


@attrs.frozen
class AccountConfig:
    """What rate shopping and label buying need of an account, read in a transaction and
    used after it."""

    id: int
    version: int
    name: str
    driver: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, Any] = attrs.field(repr=False)
    rate_timeout_ms: int
    pull_tracking: bool
    ship_from: Mapping[str, Any] | None
    services: Mapping[str, int | None]
    """Active services -> promised transit days; empty: every service quoted."""

    def sender(self, fallback_country: str) -> Address:
        values = dict(self.ship_from or {})
        return Address(name=str(values.get("name") or self.name),
                       line1=str(values.get("line1") or ""), city=str(values.get("city") or ""),
                       postal_code=str(values.get("postal_code") or ""),
                       country=str(values.get("country") or fallback_country))


def account_config(session: Session, account: CarrierAccount) -> AccountConfig:
    services = {code: days for code, days in session.execute(
        sa.select(CarrierService.code, CarrierService.promised_transit_days).where(
            CarrierService.carrier_account_id == account.id,
            CarrierService.active.is_(True)))}
    return AccountConfig(account.id, account.version, account.name, account.driver,
                         dict(account.settings or {}), dict(account.secrets or {}),
                         account.rate_timeout_ms, account.pull_tracking,
                         dict(account.ship_from) if account.ship_from else None, services)


def load_account(session: Session, account_id: int) -> AccountConfig:
    account = session.get(CarrierAccount, account_id)
    if account is None:
        raise NotFoundError(f"logistics.carrier_account {account_id} does not exist")
    return account_config(session, account)


def active_accounts(kernel: Kernel) -> tuple[AccountConfig, ...]:
    """The active accounts, in id order, kept by the process until a carrier account or
    service is written (rate shopping and every webhook need them; they seldom change)."""

    def load() -> tuple[AccountConfig, ...]:
        with kernel.transaction() as session:
            services: dict[int, dict[str, int | None]] = {}
            for account_id, code, days in session.execute(
                    sa.select(CarrierService.carrier_account_id, CarrierService.code,
                              CarrierService.promised_transit_days)
                    .where(CarrierService.active.is_(True))):
                services.setdefault(account_id, {})[code] = days
            return tuple(
                AccountConfig(a.id, a.version, a.name, a.driver, dict(a.settings or {}),
                              dict(a.secrets or {}), a.rate_timeout_ms, a.pull_tracking,
                              dict(a.ship_from) if a.ship_from else None,
                              services.get(a.id, {}))
                for a in session.scalars(sa.select(CarrierAccount).where(
                    CarrierAccount.active.is_(True)).order_by(CarrierAccount.id)))

    return kernel.committed.get("logistics.active_carrier_accounts",
                                [CarrierAccount.__tablename__, CarrierService.__tablename__],
                                load)


_DRIVERS: weakref.WeakKeyDictionary[Kernel, dict[tuple[int, int], Carrier]] = \
    weakref.WeakKeyDictionary()
_POOLS: weakref.WeakKeyDictionary[Kernel, ThreadPoolExecutor] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
CARRIER_THREADS = 32
"""Threads that call carriers for a kernel's process: enough for every account of a rate
shop at once, and for a few carriers that hang until their own HTTP timeout."""


def carrier_pool(kernel: Kernel) -> ThreadPoolExecutor:
    """The threads that call carriers in parallel, started once per kernel (starting
    threads for each rate shop costs more than a fast carrier's answer)."""
    with _LOCK:
        pool = _POOLS.get(kernel)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=CARRIER_THREADS,
                                      thread_name_prefix="erp-carrier")
            _POOLS[kernel] = pool
            weakref.finalize(kernel, pool.shutdown, wait=False)
        return pool


def open_carrier(kernel: Kernel, account: AccountConfig) -> Carrier:
    """The account's driver, built on first use of this version of the account."""
    with _LOCK:
        drivers = _DRIVERS.setdefault(kernel, {})
        key = (account.id, account.version)
        driver = drivers.get(key)
        if driver is None:
            for old in [k for k in drivers if k[0] == account.id]:
                del drivers[old]
            driver = kernel.drivers.load("carrier", account.driver,
                                         settings=dict(account.settings),
                                         secrets=dict(account.secrets))
            drivers[key] = driver
        return driver
