"""The periodic channel work: pull new orders, push stock levels (jobs ``orders.*``).

Both go through every active channel with a driver and a warehouse, one after the
other; a channel that fails is logged and named in the run's error, and never keeps
the others from their turn.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa

from erp_orders.channel import Channel
from erp_orders.channels_import import import_orders, push_stock
from erp_sdk import ErpError, Job, Kernel

log = logging.getLogger("erp.orders.channels")


def _connected_channels(kernel: Kernel) -> list[str]:
    with kernel.transaction() as session:
        return list(session.scalars(sa.select(Channel.code).where(
            Channel.active.is_(True), Channel.driver.is_not(None),
            Channel.warehouse_id.is_not(None)).order_by(Channel.code)))


def _each_channel(kernel: Kernel, work: Callable[[str], str]) -> str:
    done, failed = [], []
    for code in _connected_channels(kernel):
        try:
            done.append(work(code))
        except Exception as exc:
            reason = exc.message if isinstance(exc, ErpError) else f"{type(exc).__name__}: {exc}"
            log.exception("channel %s: %s", code, reason)
            failed.append(f"{code}: {reason}")
    if failed:
        raise RuntimeError("; ".join(failed + done))
    return "; ".join(done) or "no connected channel"


def import_from_every_channel(kernel: Kernel) -> str:
    def pull(code: str) -> str:
        result = import_orders(kernel, code)
        if not result.ok:
            raise RuntimeError(result.summary() + (f": {result.error}" if result.error else ""))
        return result.summary()

    return _each_channel(kernel, pull)


def push_stock_to_every_channel(kernel: Kernel) -> str:
    return _each_channel(kernel, lambda code: f"{code}: {push_stock(kernel, code)} levels")


CHANNEL_JOBS = [
    Job("import_channel_orders", import_from_every_channel, every=dt.timedelta(minutes=5),
        description="Pull new orders from every connected sales channel."),
    Job("push_channel_stock", push_stock_to_every_channel, every=dt.timedelta(minutes=30),
        description="Send every connected sales channel its warehouse's available stock."),
]
