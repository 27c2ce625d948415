"""Orders a sales channel pushes, through the kernel's inbound webhooks.

A channel with a driver takes webhooks at ``POST /api/v1/hooks/{driver}/{code}``. Its
driver checks the signature on the raw body (``parse_order_webhook``) before anything is
read from it; the kernel then records the webhook's event id and hands the orders here,
in one transaction: every order of the webhook is placed (and, with ``auto_confirm``,
confirmed) or none is. An order the channel already sent, by webhook or by a pull, is
counted as existing. A webhook with an order that cannot be imported (an unknown SKU) is
refused whole with 422 naming each such order, and nothing of it is kept, so the
channel's resend, once the product exists, imports it all.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from erp_orders.channel import Channel
from erp_orders.channels_import import (
    ORDER,
    PLACE_ATTEMPTS,
    ChannelAccount,
    ImportFailure,
    _failure,
    account_of,
    open_driver,
    place_channel_order,
)
from erp_sdk import (
    ConflictError,
    Context,
    ErpError,
    InboundWebhook,
    Kernel,
    ValidationError,
    VerifiedWebhook,
    WebhookReceiver,
)
from erp_sdk.drivers import WebhookRequest

_TAKING_WEBHOOKS = sa.select(Channel).where(
    Channel.active.is_(True), Channel.driver.is_not(None), Channel.warehouse_id.is_not(None))


def _channels_taking_webhooks(kernel: Kernel) -> dict[tuple[str, str], ChannelAccount]:
    """The active channels that can take order webhooks, by ``(driver, code)``: every
    inbound webhook asks, whichever plugin's it is, so the process keeps them until a
    channel is written (see ``kernel.committed``)."""

    def load() -> dict[tuple[str, str], ChannelAccount]:
        with kernel.transaction() as session:
            accounts = [account_of(row) for row in session.scalars(_TAKING_WEBHOOKS)]
        return {(a.driver, a.code): a for a in accounts}  # type: ignore[misc]

    return kernel.committed.get("orders.channels_taking_webhooks", [Channel.__tablename__],
                                load)


def verify_order_webhook(kernel: Kernel, webhook: InboundWebhook) -> VerifiedWebhook | None:
    """The orders of an authentic webhook to an active channel with this code and driver;
    ``None`` when there is no such channel."""
    account = _channels_taking_webhooks(kernel).get((webhook.driver, webhook.account))
    if account is None:
        return None
    orders = open_driver(kernel, account).parse_order_webhook(
        WebhookRequest(headers=webhook.headers, body=webhook.body))
    return VerifiedWebhook((account, tuple(orders)))


def _place(ctx: Context, account: Any, order: Any) -> tuple[int, bool]:
    """Place one order in a savepoint; a concurrent import that placed it (or created its
    customer) first makes the savepoint fail, and the next attempt finds its row."""
    for attempt in range(1, PLACE_ATTEMPTS + 1):
        try:
            with ctx.session.begin_nested():
                return place_channel_order(ctx, account, order)
        except (ConflictError, sa.exc.IntegrityError) as exc:
            if attempt == PLACE_ATTEMPTS:
                message = exc.message if isinstance(exc, ErpError) else str(exc.orig)
                raise ConflictError(message) from None
    raise AssertionError("unreachable")  # pragma: no cover


def import_webhook_orders(ctx: Context, verified: VerifiedWebhook) -> dict[str, Any]:
    """Place the webhook's orders in ``ctx``'s transaction; refuse it whole when one fails."""
    account, orders = verified.content
    created: list[int] = []
    existing = 0
    failed: list[ImportFailure] = []
    unconfirmed: list[ImportFailure] = []
    for order in orders:
        try:
            order_id, was_created = _place(ctx, account, order)
        except ErpError as exc:
            failed.append(_failure(order, exc))
            continue
        if not was_created:
            existing += 1
            continue
        created.append(order_id)
        if account.options.auto_confirm:
            try:
                with ctx.session.begin_nested():
                    ctx.fire(ORDER, order_id, "confirm", read_back=False)
            except ErpError as exc:  # a refused confirmation leaves the order in draft
                unconfirmed.append(ImportFailure(order.external_reference, exc.message))
    if failed:
        raise ValidationError(
            f"{len(failed)} of the webhook's orders could not be imported, so none was: "
            + "; ".join(f.reason for f in failed),
            {f"orders[{f.external_reference}]{'.' + f.field if f.field else ''}": f.reason
             for f in failed})
    return {"channel": account.code, "created": created, "existing": existing,
            "unconfirmed": [{"external_reference": f.external_reference, "reason": f.reason}
                            for f in unconfirmed]}


ORDER_WEBHOOKS = WebhookReceiver(verify_order_webhook, import_webhook_orders,
                                 description="Orders pushed by sales channels")
