"""Receiving an inbound webhook: verified by its owner, handled once per event id.

The kernel records ``(driver, account, event id)`` in ``kernel_inbound_webhook`` in the
transaction in which the owning plugin handles the webhook. A provider that sends an
event again (they do, after a timeout or on purpose) meets the unique key: on PostgreSQL
a concurrent copy waits for the first transaction, then finds the row; the copy is
answered as a duplicate and nothing is done twice. A handling that fails leaves no row,
so the provider's retry is handled afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime, utcnow
from erp_core.db.upsert import Upsert
from erp_core.errors import AuthenticationRequired, ErpError, NotFoundError, PluginError
from erp_core.inbound.declaration import InboundWebhook, VerifiedWebhook, WebhookReceiver
from erp_core.security.principal import Principal

if TYPE_CHECKING:
    from erp_core.context import KernelServices

MAX_EVENT_ID_LENGTH = 200


class ReceivedWebhook(Base):
    """An inbound webhook event that was handled, remembered to refuse its replays."""

    __tablename__ = "kernel_inbound_webhook"
    __table_args__ = (sa.UniqueConstraint("driver", "account", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    driver: Mapped[str] = mapped_column(sa.String(64))
    account: Mapped[str] = mapped_column(sa.String(120))
    event_id: Mapped[str] = mapped_column(sa.String(MAX_EVENT_ID_LENGTH))
    received_at: Mapped[UtcDateTime] = mapped_column(index=True)


_TABLE = ReceivedWebhook.__table__
_RECORD = Upsert(lambda insert: insert(_TABLE).on_conflict_do_nothing(
    index_elements=[_TABLE.c.driver, _TABLE.c.account, _TABLE.c.event_id])
    .returning(_TABLE.c.id))


@attrs.frozen
class Reception:
    """What became of an inbound webhook: handled now, or a duplicate of one handled."""

    event_id: str
    duplicate: bool
    result: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "duplicate": self.duplicate, "result": self.result}


def receivers(kernel: KernelServices) -> list[tuple[str, WebhookReceiver]]:
    """``(plugin, receiver)`` of every enabled plugin, in dependency order."""
    found = []
    for plugin, items in kernel.contribute("erp_register_webhook_receivers"):
        for item in items or ():
            if not isinstance(item, WebhookReceiver):
                raise PluginError(f"plugin {plugin!r}: erp_register_webhook_receivers must"
                                  f" return erp_sdk.WebhookReceiver objects, not"
                                  f" {type(item).__name__}", plugin=plugin)
            found.append((plugin, item))
    return found


def _event_id(webhook: InboundWebhook, verified: VerifiedWebhook) -> str:
    if verified.event_id is None:
        return "sha256:" + hashlib.sha256(webhook.body).hexdigest()
    event_id = str(verified.event_id)
    if not event_id or len(event_id) > MAX_EVENT_ID_LENGTH:
        raise ErpError(f"the event id of a {webhook.driver} webhook must be 1 to"
                       f" {MAX_EVENT_ID_LENGTH} characters")
    return event_id


def receive(kernel: KernelServices, webhook: InboundWebhook) -> Reception:
    """Verify ``webhook`` through the plugin owning its account, then handle it once.

    Raises ``NotFoundError`` when no enabled plugin owns the account,
    ``AuthenticationRequired`` (401) when its driver finds it not authentic, and what
    the handling raised (nothing of it kept).
    """
    outcome = "handled"
    try:
        for _plugin, receiver in receivers(kernel):
            verified = receiver.verify(kernel, webhook)
            if verified is not None:
                break
        else:
            outcome = "unknown_account"
            raise NotFoundError(f"there is no {webhook.driver} account {webhook.account!r}"
                                " taking webhooks")
        event_id = _event_id(webhook, verified)
        principal = Principal.system(f"webhook {webhook.driver}/{webhook.account}")

        def handle_once(ctx: Any) -> Reception:
            recorded = ctx.session.execute(_RECORD.on(ctx.session), {
                "driver": webhook.driver, "account": webhook.account, "event_id": event_id,
                "received_at": utcnow()})
            if recorded.scalar() is None:  # the row was there: a replay
                return Reception(event_id, duplicate=True)
            return Reception(event_id, duplicate=False,
                             result=receiver.handle(ctx, verified))

        reception = kernel.run(handle_once, principal)
        if reception.duplicate:
            outcome = "duplicate"
        return reception
    except AuthenticationRequired:
        outcome = "rejected"
        raise
    except Exception:
        if outcome == "handled":
            outcome = "refused"
        raise
    finally:
        from erp_core import metrics  # prometheus-client only where something is counted

        metrics.INBOUND_WEBHOOKS.labels(webhook.driver, outcome).inc()


def purge_received_webhooks(session: Session, retention_days: int,
                            now: dt.datetime | None = None) -> int:
    """Forget event ids received more than ``retention_days`` ago; returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    return session.execute(sa.delete(_TABLE).where(_TABLE.c.received_at < cutoff)).rowcount or 0
